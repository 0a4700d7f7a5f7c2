/**
 * Each service as a real process, stopped with SIGTERM: it runs its parts' stops in the
 * reverse of their start, which is the order its main.ts documents (intake first, then
 * drain, offsets committed, producers flushed, clients closed last), none failing or
 * timing out, and exits 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { stopService, startServices, type Running } from './support/service-processes.ts';

/** The shutdown steps a service logged, in order, with the ones that failed marked. */
function shutdownSteps(service: Running): string[] {
  return service
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; step?: string; order?: number })
    .filter((entry) => entry.msg === 'shutdown step done' || entry.msg === 'shutdown step failed; continuing')
    // In the order the steps ran (each line says its place), not the order the lines reached stdout:
    // pino writes asynchronously and its last lines, flushed at the exit, can overtake a write in flight.
    .sort((a, b) => (a.order ?? Number.NaN) - (b.order ?? Number.NaN))
    .map((entry) => (entry.msg === 'shutdown step done' ? (entry.step ?? '?') : `FAILED ${entry.step}`));
}

const expected: Record<string, string[]> = {
  ingest: ['device registry watch', 'http (stop intake, drain in-flight batches)', 'kafka producer (flush)', 'kafka', 'redis'],
  aggregator: ['consumer (store and commit the batch in hand, leave the group)', 'dead-letter archive (commit offsets)', 'live (publish the last ticks and journeys)', 'http', 'kafka producer (flush)', 'kafka', 'clickhouse'],
  live: ['access registry watch', 'alert engine', 'kpi board', 'websockets (1001, clients resume elsewhere)', 'http (finish requests in flight)', 'feeds (and their lag)', 'kafka producer (flush alert changes)', 'redis', 'clickhouse (alert log)', 'clickhouse'],
  slots: [
    'http (stop intake, finish requests in flight)',
    'sweeper',
    'webhook conditions watcher',
    'webhook consumer (commit offsets)',
    'webhook sender (sends in flight finish)',
    'check-in consumer (commit offsets)',
    'outbox relay (what is left is published at the next start)',
    'history consumer (commit offsets)',
    'kafka producer (flush)',
    'kafka',
    'redis',
    'clickhouse',
  ],
};

describe('graceful shutdown', () => {
  test('SIGTERM stops each service part by part in the documented order, none failing, and it exits 0', { timeout: 300_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'shutdown-'));
    const services = await startServices(infra, directory, logger, Object.keys(expected), { LOG_LEVEL: 'info' });
    try {
      for (const [name, service] of Object.entries(services.running)) {
        expect(await stopService(service), `${name}: ${service.stderr()}`).toBe(0);
        expect(shutdownSteps(service), name).toEqual(expected[name]);
      }
    } finally {
      await services.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
