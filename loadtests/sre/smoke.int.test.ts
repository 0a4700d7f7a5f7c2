/**
 * The SREs' load kit cannot rot: `smoke` runs against the four services started as
 * real processes on the test servers (a target file naming their ports, the demo
 * credentials, the registry to add device keys to and the read-only ClickHouse
 * login), with its SLOs on (time bounds ten times looser: a shared machine), and must
 * pass and leave its report. Then `wall-swarm` briefly: its devices go through the kit's
 * device engine (device-engine.ts) and the sleeping arrival timer (arrival-timer.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { startServices } from '../../test/support/service-processes.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('load tests: smoke against the test stack', () => {
  test('every path once at a low rate passes its SLOs and writes summary.md, report.html and the Artillery JSON; devices through the device engine all arrive', { timeout: 900_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'load-smoke-'));
    const services = await startServices(infra, directory, logger, ['ingest', 'aggregator', 'live', 'slots']);
    try {
      const target = {
        name: 'test stack',
        ingest: services.url('ingest'),
        live: services.url('live'),
        slots: services.url('slots'),
        credentialsFile: 'credentials.json',
        // As for npm start's stack: the run adds its device keys to the registry, and ingest takes them without a restart.
        registryDirectory: '.',
        clickhouse: { url: infra.CLICKHOUSE_URL, user: 'tower_reader', password: infra.credentials.clickhouse.tower_reader },
        metrics: Object.fromEntries(['ingest', 'aggregator', 'live', 'slots'].map((name) => [name, services.url(name, '/metrics')])),
      };
      fs.writeFileSync(path.join(directory, 'target.json'), JSON.stringify(target));
      // The SLOs of slos.json with every time bound ten times looser: the suite runs beside other test files on two
      // cores, sharing the event topics and the aggregator's consumer group with them (a rebalance stops the ticks
      // for seconds). Errors, failed users and correctness keep their bounds (0).
      const slos = JSON.parse(fs.readFileSync(path.join(root, 'loadtests/sre/slos.json'), 'utf8')) as Record<string, Record<string, number>>;
      const looser = (scenario: string) => Object.fromEntries(Object.entries(slos[scenario] ?? {}).map(([figure, max]) => [figure, figure.endsWith('_ms') ? max * 10 : max]));
      fs.writeFileSync(path.join(directory, 'slos.json'), JSON.stringify({ smoke: looser('smoke'), 'wall-swarm': looser('wall-swarm') }));
      /** Runs a scenario of the kit against the stack; its summary, the directory of its results, and whether it failed. */
      const runKit = async (scenario: string, options: string[]) => {
        const results = path.join(directory, `results-${scenario}`);
        const run = await promisify(execFile)(
          process.execPath,
          ['--import', 'tsx', path.join(root, 'loadtests/sre/main.ts'), scenario, '--target', path.join(directory, 'target.json'), ...options, '--slos', path.join(directory, 'slos.json'), '--results', results],
          { cwd: root, maxBuffer: 64 * 1024 * 1024 },
        ).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ ...error, failed: true }));
        const [report] = fs.existsSync(results) ? fs.readdirSync(results) : [];
        const reportDirectory = path.join(results, report ?? '');
        const summary = report ? fs.readFileSync(path.join(reportDirectory, 'summary.md'), 'utf8') : '';
        expect('failed' in run, `${run.stdout}\n${run.stderr}\n${summary}`).toBe(false);
        return { summary, reportDirectory };
      };

      const { summary, reportDirectory } = await runKit('smoke', ['--duration', '20', '--prometheus-port', '0']);
      expect(summary).toMatch(/^# Load test `smoke`: PASS/);
      expect(summary).toMatch(/\| correctness\.events_missing \| 0 \| ≤ 0 \| pass \|/);
      expect(summary).toMatch(/\| correctness\.events_duplicated \| 0 \| ≤ 0 \| pass \|/);
      expect(summary).toMatch(/\| ingest\.p99_ms \| [\d.,]+ \| ≤ 2,000 \| pass \|/);
      for (const file of ['report.html', 'smoke.json', 'run.json', 'metrics.prom']) expect(fs.existsSync(path.join(reportDirectory, file)), file).toBe(true);
      expect(fs.existsSync(path.join(reportDirectory, 'run-context.json')), 'the keys are removed after the run').toBe(false);
      const metrics = fs.readFileSync(path.join(reportDirectory, 'metrics.prom'), 'utf8');
      expect(metrics).toMatch(/^tower_load_running\{scenario="smoke",run="[0-9a-f]+"\} 0$/m);
      expect(metrics).toMatch(/^tower_load_response_time_seconds_count\{scenario="smoke",run="[0-9a-f]+",path="ingest"\} [1-9]/m);
      const html = fs.readFileSync(path.join(reportDirectory, 'report.html'), 'utf8');
      expect(html).toContain('<svg');
      expect(html).not.toMatch(/<script|src="http/);

      // The devices' parts of every other scenario go through the kit's device engine, timed by the sleeping arrival timer:
      // every batch arrives (3/s for 40 s: 120, each counted by the engine under the HTTP engine's names) and is stored.
      // Walls arrive evenly over 20 s, the first after one interval: two clients connect at 10 s and 20 s, while devices still send.
      const swarm = await runKit('wall-swarm', ['--duration', '40', '--rate', '3', '--batch', '5', '--clients', '2']);
      expect(swarm.summary).toMatch(/^# Load test `wall-swarm`: PASS/);
      const devices = JSON.parse(fs.readFileSync(path.join(swarm.reportDirectory, 'devices.json'), 'utf8')) as { aggregate: { counters: Record<string, number>; summaries: Record<string, { count: number }> } };
      expect(devices.aggregate.counters['vusers.created']).toBe(120);
      expect(devices.aggregate.counters['http.codes.200']).toBe(120);
      expect(devices.aggregate.summaries['plugins.metrics-by-endpoint.response_time.ingest']?.count).toBe(120);
      expect(swarm.summary).toMatch(/\| events\.sent \| 600 \|/);
      expect(swarm.summary).toMatch(/\| events\.stored \| 600 \|/);
      expect(swarm.summary).toMatch(/\| correctness\.events_missing \| 0 \| ≤ 0 \| pass \|/);
    } finally {
      await services.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
