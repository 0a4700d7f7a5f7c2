/**
 * The test stack's Prometheus (started by the global setup's upInfra, as `npm start`
 * starts the dev one) scrapes every target of the scrape plan and reports it up: each
 * service run as a process on a free port and found through its target file (the
 * ClickHouse collector among them), the node and Redis exporters, every Kafka node's JMX
 * agent and Prometheus itself. It has loaded and evaluates the rules, and the queries an
 * SRE runs first answer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject } from 'vitest';
import { eventually, test } from '@tower/shared/testing';
import { parse } from 'yaml';
import { startEveryService, type Running } from '../../test/support/service-processes.ts';
import { repoRoot, resolveProfile, type InfraProfile } from '../local/profiles.ts';
import { serversOf } from '../local/servers.ts';
import { discoverServices } from '../local/services.ts';
import { inspectServer } from '../local/supervisor.ts';
import { localScrapePlan, writeServiceTargets } from './scrape.ts';

interface ActiveTarget {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}
interface RuleGroup {
  name: string;
  rules: { name: string; health: 'ok' | 'err' | 'unknown'; lastError?: string }[];
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * The queries README gives an SRE to run first (its block after "The five queries an SRE
 * runs first"), read from README itself so the two cannot drift: each line a query, then
 * `#` and what it shows.
 */
function readmeQueries(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const block = /The five queries an SRE runs first[^\n]*\n+```\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no block of the five queries an SRE runs first');
  return block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

const monitoringProfile = inject('monitoringProfile');

async function api<T>(profile: InfraProfile, route: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${profile.monitoring.prometheusPort}${route}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${route}: ${body.error ?? response.status}`);
  return body.data;
}

const query = (profile: InfraProfile, promql: string) => api<{ result: Sample[] }>(profile, `/api/v1/query?query=${encodeURIComponent(promql)}`).then((d) => d.result);

/** Why a target is down, where the test can tell more than Prometheus's last error. */
function whyDown(profile: InfraProfile, target: ActiveTarget, services: Map<string, Running>): string {
  const port = Number(target.labels['instance']?.split(':')[1]);
  const server = serversOf(profile).find((s) => s.ports.some((p) => p.port === port));
  const service = services.get(target.labels['job'] ?? '');
  if (service) return service.child.exitCode === null ? 'the service runs but /metrics did not answer' : `the service exited: ${service.stderr().slice(-500)}`;
  if (!server) return 'no server of the profile listens there';
  const state = inspectServer(server);
  if (state.state !== 'running') return `${server.label} is ${state.state} (npm run infra:status -- --profile ${profile.name})`;
  if (target.labels['job'] === 'kafka') {
    const commandLine = fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    if (!commandLine.includes('-javaagent:')) {
      return `${server.label} (pid ${state.pid}) was started without the JMX exporter agent, before infra/local/servers.ts loaded it: restart the ${profile.name} servers (npm run infra:down -- --profile ${profile.name})`;
    }
  }
  return `${server.label} runs (pid ${state.pid}); see npm run infra:logs -- --profile ${profile.name} ${server.name}`;
}

describe('Prometheus in the test stack', () => {
  test.skipIf(monitoringProfile === null)(
    'scrapes every service, the exporters and each Kafka node and reports them up; evaluates the rules; the first queries answer',
    { timeout: 600_000 },
    async ({ infra, logger }) => {
      const profile = resolveProfile(monitoringProfile ?? 'test');
      await eventually(async () => ((await fetch(`http://127.0.0.1:${profile.monitoring.prometheusPort}/-/ready`)).ok ? true : undefined), { timeoutMs: 60_000, what: 'Prometheus to be ready' });

      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-targets-'));
      const stack = await startEveryService(infra, directory, logger);
      const running = new Map(Object.entries(stack.running));
      try {
        expect([...running.keys()].sort()).toEqual(discoverServices().map((s) => s.name).sort());
        writeServiceTargets(profile, [...running].map(([service, { port }]) => ({ service, port })));

        const plan = localScrapePlan(profile);
        const expected = [
          ['prometheus', plan.prometheus],
          ['node', plan.nodeExporter],
          ['redis', plan.redisExporter],
          ...plan.kafkaJmx.map((address) => ['kafka', address]),
          ...[...running].map(([service, { port }]) => [service, `127.0.0.1:${port}`]),
        ].map(([job, instance]) => `${job} ${instance}`);

        // Every target of the plan up (Prometheus scrapes the test profile every 5 s); on timeout, each one that is not and why.
        const targets = await eventually(
          async () => {
            const { activeTargets } = await api<{ activeTargets: ActiveTarget[] }>(profile, '/api/v1/targets?state=active');
            const byName = new Map(activeTargets.map((t) => [`${t.labels['job']} ${t.labels['instance']}`, t]));
            const notUp = expected.filter((name) => byName.get(name)?.health !== 'up');
            if (notUp.length === 0) return activeTargets;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const reasons = notUp.map((name) => {
              const target = byName.get(name);
              return target ? `${name} is ${target.health} (${target.lastError || 'not scraped yet'}): ${whyDown(profile, target, running)}` : `${name} is not among Prometheus's targets`;
            });
            throw new Error(`targets not up:\n  ${reasons.join('\n  ')}`);
          },
          { timeoutMs: 180_000, what: 'every target of the scrape plan to be up' },
        );
        expect(targets.map((t) => `${t.labels['job']} ${t.labels['instance']}`).sort()).toEqual([...expected].sort());
        for (const [service, { port }] of running) {
          expect(targets.find((t) => t.labels['instance'] === `127.0.0.1:${port}`)?.labels).toMatchObject({ job: service, service });
        }

        // Every rule group of infra/prometheus/rules loaded, and every rule evaluated without error.
        const ruleFiles = fs.readdirSync(path.join(repoRoot, 'infra/prometheus/rules')).filter((f) => f.endsWith('.yml'));
        const groupNames = ruleFiles.flatMap((f) => (parse(fs.readFileSync(path.join(repoRoot, 'infra/prometheus/rules', f), 'utf8')) as { groups: { name: string }[] }).groups.map((g) => g.name));
        expect(groupNames.length).toBeGreaterThan(0);
        await eventually(
          async () => {
            const { groups } = await api<{ groups: RuleGroup[] }>(profile, '/api/v1/rules');
            const loaded = groups.map((g) => g.name);
            const missing = groupNames.filter((name) => !loaded.includes(name));
            const notOk = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${g.name}/${r.name} ${r.health}${r.lastError ? `: ${r.lastError}` : ''}`));
            if (missing.length === 0 && notOk.length === 0) return true;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            throw new Error(`rule groups not loaded: ${missing.join(', ') || 'none'}; rules not evaluated cleanly: ${notOk.join('; ') || 'none'}`);
          },
          { timeoutMs: 120_000, what: 'the rules to be loaded and evaluated' },
        );

        // The overview queries answer: every target up, requests per second counted (Prometheus's own scrapes of /metrics are requests).
        const up = await query(profile, 'up');
        expect(up.filter((s) => s.value[1] !== '1').map((s) => s.metric)).toEqual([]);
        expect(up.length).toBe(expected.length);
        const requests = await eventually(
          async () => {
            const [sample] = await query(profile, 'sum(rate(tower_http_request_duration_seconds_count[1m]))');
            if (sample && Number(sample.value[1]) > 0) return Number(sample.value[1]);
            await new Promise((resolve) => setTimeout(resolve, 1000));
            return undefined;
          },
          { timeoutMs: 120_000, what: 'a request rate over every service' },
        );
        expect(requests).toBeGreaterThan(0);
        // README's first queries: each answers, and those a running stack fills are not empty.
        const sreQueries = readmeQueries();
        expect(sreQueries).toHaveLength(5);
        for (const promql of sreQueries) await expect(query(profile, promql), promql).resolves.toBeInstanceOf(Array);
        const answers = async (promql: string, enough: (result: Sample[]) => boolean = (result) => result.length > 0) => {
          expect(sreQueries, `README's first queries name ${promql}`).toContain(promql);
          return eventually(
            async () => {
              const result = await query(profile, promql);
              if (enough(result)) return result;
              await new Promise((resolve) => setTimeout(resolve, 1000));
              return undefined;
            },
            { timeoutMs: 120_000, what: `${promql} to answer` },
          );
        };
        // The simulator's events through ingest, by family.
        expect((await answers('sum by (family) (rate(tower_ingest_events_accepted_total[5m]))')).map((s) => s.metric['family']).length).toBeGreaterThan(0);
        // Lag per consumer group: the aggregator's groups at least.
        const lag = await answers('service_group_topic:tower_consumer_lag_messages:sum', (result) => result.some((s) => s.metric['group'] === 'tower-aggregator'));
        expect(lag.every((s) => Number(s.value[1]) >= 0)).toBe(true);
        // The 5xx share: a figure for every service, 0 included (not "no data"); readiness
        // probes answered 503 while a service started, so it need not be 0.
        const errorShares = await eventually(
          async () => {
            const result = await query(profile, 'service:tower_http_requests_5xx:ratio_rate5m');
            // A series just born has no rate yet (0 / 0): wait for a number for each.
            if (running.size > 0 && [...running.keys()].every((service) => result.some((s) => s.metric['service'] === service && !Number.isNaN(Number(s.value[1]))))) return result;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            return undefined;
          },
          { timeoutMs: 120_000, what: 'a 5xx share for every service' },
        );
        const shares = errorShares.filter((s) => running.has(s.metric['service'] ?? ''));
        expect(shares.map((s) => s.metric['service']).sort()).toEqual([...running.keys()].sort());
        for (const share of shares) expect(Number(share.value[1]), share.metric['service']).toBeGreaterThanOrEqual(0);
        expect(shares.some((s) => Number(s.value[1]) === 0), 'a service that never answered a 5xx shows 0').toBe(true);
        expect(await query(profile, 'up == 0')).toEqual([]);
      } finally {
        writeServiceTargets(profile, []);
        await stack.stop();
        fs.rmSync(directory, { recursive: true, force: true });
      }
    },
  );
});
