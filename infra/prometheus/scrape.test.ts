import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { newInfraCredentials } from '../local/infra-credentials.ts';
import { profileNames, repoRoot, resolveProfile, type InfraProfile } from '../local/profiles.ts';
import { serversOf } from '../local/servers.ts';
import { discoverServices } from '../local/services.ts';
import { composeScrapePlan, localScrapePlan, prometheusConfig, prometheusFiles, renderPrometheusConfig, writePrometheusConfig, writeServiceTargets } from './scrape.ts';

interface ScrapeConfig {
  job_name: string;
  honor_labels?: boolean;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  file_sd_configs?: { files: string[] }[];
}
interface PrometheusYaml {
  global: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

const services = discoverServices();
const infraJobs = ['prometheus', 'node', 'redis', 'kafka'];
const config = (profile: InfraProfile) => prometheusConfig(localScrapePlan(profile)) as unknown as PrometheusYaml;
const jobOf = (document: PrometheusYaml, name: string) => document.scrape_configs.find((c) => c.job_name === name);
const staticTargets = (job: ScrapeConfig | undefined) => job?.static_configs?.flatMap((c) => c.targets) ?? [];

/** A profile whose Prometheus files live in a temporary directory. */
function scratchProfile(): InfraProfile {
  const base = resolveProfile('test');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-prometheus-'));
  return { ...base, root, monitoring: { ...base.monitoring, prometheusDataDir: path.join(root, 'prometheus') } };
}

describe('the local Prometheus configuration (infra/prometheus/scrape.ts)', () => {
  let scratch: InfraProfile | undefined;
  afterEach(() => {
    if (scratch) fs.rmSync(scratch.root, { recursive: true, force: true });
    scratch = undefined;
  });

  it('has one job per service, found through its file under .local/<profile>/prometheus/targets/, honouring the services\' own labels', () => {
    expect(services.map((s) => s.name)).toEqual(expect.arrayContaining(['ingest', 'aggregator', 'live', 'slots', 'simulator']));
    for (const name of profileNames) {
      const profile = resolveProfile(name);
      const document = config(profile);
      for (const service of services) {
        const job = jobOf(document, service.name);
        expect(job?.file_sd_configs, `${name} ${service.name}`).toEqual([{ files: [path.join(repoRoot, '.local', name, 'prometheus', 'targets', `${service.name}.json`)] }]);
        expect(job?.honor_labels).toBe(true);
      }
      expect(document.scrape_configs.map((c) => c.job_name).sort()).toEqual([...services.map((s) => s.name), ...infraJobs].sort());
    }
  });

  it("scrapes the profile's own Prometheus, exporters and every Kafka node's JMX agent on 127.0.0.1, and no two profiles share a port", () => {
    const seen = new Map<string, string>();
    for (const name of profileNames) {
      for (const mode of ['single', 'cluster'] as const) {
        const profile = resolveProfile(name, mode);
        const { monitoring } = profile;
        const document = config(profile);
        expect(staticTargets(jobOf(document, 'prometheus'))).toEqual([`127.0.0.1:${monitoring.prometheusPort}`]);
        expect(staticTargets(jobOf(document, 'node'))).toEqual([`127.0.0.1:${monitoring.nodeExporterPort}`]);
        expect(staticTargets(jobOf(document, 'redis'))).toEqual([`127.0.0.1:${monitoring.redisExporterPort}`]);
        expect(staticTargets(jobOf(document, 'kafka'))).toEqual(profile.kafka.nodes.map((_, i) => `127.0.0.1:${monitoring.kafkaJmxBasePort + i}`));
        for (const target of document.scrape_configs.flatMap(staticTargets)) {
          expect(target).toMatch(/^127\.0\.0\.1:\d+$/);
          expect(seen.get(target) ?? name, `${target} is used by ${seen.get(target)} and ${name}`).toBe(name);
          seen.set(target, name);
        }
      }
    }
    expect(staticTargets(jobOf(config(resolveProfile('dev', 'cluster')), 'kafka'))).toEqual(['127.0.0.1:9404', '127.0.0.1:9405', '127.0.0.1:9406']);
  });

  it('scrapes and evaluates every 15 s for the demo and every 5 s for the tests, which wait on it', () => {
    expect(config(resolveProfile('dev')).global).toEqual({ scrape_interval: '15s', evaluation_interval: '15s' });
    expect(config(resolveProfile('test')).global).toEqual({ scrape_interval: '5s', evaluation_interval: '5s' });
  });

  it('evaluates every rule file of infra/prometheus/rules', () => {
    const document = config(resolveProfile('dev'));
    const rules = fs.readdirSync(path.join(repoRoot, 'infra/prometheus/rules')).filter((f) => f.endsWith('.yml'));
    expect(rules.length).toBeGreaterThan(1);
    expect(document.rule_files).toEqual([path.join(repoRoot, 'infra/prometheus/rules/*.yml')]);
  });

  it('creates every service\'s target file with the configuration, so discovery can watch their directory from the start', () => {
    scratch = scratchProfile();
    writePrometheusConfig(scratch);
    for (const service of services) expect(JSON.parse(fs.readFileSync(path.join(prometheusFiles(scratch).targets, `${service.name}.json`), 'utf8')), service.name).toEqual([]);
    // A later render keeps the targets written meanwhile.
    writeServiceTargets(scratch, [{ service: 'ingest', port: 2001 }]);
    writePrometheusConfig(scratch);
    expect(JSON.parse(fs.readFileSync(path.join(prometheusFiles(scratch).targets, 'ingest.json'), 'utf8'))).toHaveLength(1);
  });

  it('passes promtool check config, rule files included', () => {
    scratch = scratchProfile();
    writePrometheusConfig(scratch);
    writeServiceTargets(scratch, [{ service: 'ingest', port: 18081 }]);
    const check = spawnSync('promtool', ['check', 'config', prometheusFiles(scratch).config], { encoding: 'utf8' });
    if ((check.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('promtool is not installed: run `bash infra/local/bootstrap.sh`');
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rule/);
  });

  it('writeServiceTargets replaces every service file: the named ones get their targets and `service` label, the others none', () => {
    scratch = scratchProfile();
    const file = (service: string) => path.join(prometheusFiles(scratch!).targets, `${service}.json`);
    writeServiceTargets(scratch, [{ service: 'slots', port: 1111 }]);
    writeServiceTargets(scratch, [
      { service: 'ingest', port: 2001 },
      { service: 'ingest', port: 2002 },
      { service: 'live', port: 2003 },
    ]);
    expect(JSON.parse(fs.readFileSync(file('ingest'), 'utf8'))).toEqual([{ targets: ['127.0.0.1:2001', '127.0.0.1:2002'], labels: { service: 'ingest' } }]);
    expect(JSON.parse(fs.readFileSync(file('live'), 'utf8'))).toEqual([{ targets: ['127.0.0.1:2003'], labels: { service: 'live' } }]);
    // The earlier run's slots target is gone, not left to read as down.
    expect(JSON.parse(fs.readFileSync(file('slots'), 'utf8'))).toEqual([]);
    for (const service of services) expect(fs.existsSync(file(service.name)), service.name).toBe(true);
    expect(fs.readdirSync(prometheusFiles(scratch).targets).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(() => writeServiceTargets(scratch!, [{ service: 'nope', port: 1 }])).toThrow(/no scrape job for nope/);
  });
});

describe("Prometheus as a local server (infra/local/servers.ts)", () => {
  it('starts after the other servers, listens on 127.0.0.1 only, keeps its data under .local/<profile>/prometheus with a bounded retention', () => {
    for (const name of profileNames) {
      const profile = resolveProfile(name);
      const servers = serversOf(profile, newInfraCredentials());
      const prometheus = servers.find((s) => s.name === 'prometheus');
      expect(prometheus?.startsAfterOthers).toBe(true);
      expect(servers.filter((s) => s.startsAfterOthers).map((s) => s.name)).toEqual(['prometheus']);
      expect(prometheus?.ports).toEqual([{ port: profile.monitoring.prometheusPort, role: 'HTTP' }]);
      expect(prometheus?.args).toEqual(
        expect.arrayContaining([
          `--config.file=${path.join(repoRoot, '.local', name, 'prometheus', 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(repoRoot, '.local', name, 'prometheus', 'data')}`,
          `--web.listen-address=127.0.0.1:${profile.monitoring.prometheusPort}`,
          '--storage.tsdb.retention.time=7d',
          '--storage.tsdb.retention.size=2GB',
        ]),
      );
      // No lifecycle API (anyone on the host could stop it): a running one is reconfigured with SIGHUP.
      expect(prometheus?.args.join(' ')).not.toContain('enable-lifecycle');
    }
  });
});

describe('the compose Prometheus configuration', () => {
  it('scrapes the same jobs as the local one, by the compose network\'s names, with the `service` label on every service', () => {
    const local = config(resolveProfile('dev'));
    const compose = prometheusConfig(composeScrapePlan()) as unknown as PrometheusYaml;
    expect(compose.scrape_configs.map((c) => c.job_name)).toEqual(local.scrape_configs.map((c) => c.job_name));
    for (const service of services) {
      expect(jobOf(compose, service.name)?.static_configs).toEqual([{ targets: [`${service.name}:${service.port}`], labels: { service: service.name } }]);
      expect(jobOf(compose, service.name)?.honor_labels).toBe(true);
    }
    expect(compose.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(compose.global).toEqual(local.global);
    expect(parse(renderPrometheusConfig(composeScrapePlan(), 'x'))).toEqual(compose);
  });
});
