import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { connectRedis, createRedis, type Redis } from '@tower/shared';
import { eventually, test } from '@tower/shared/testing';
import { differencesFromDocs, infrastructureMetrics, scrape } from '../prometheus/exposition.ts';
import { newInfraCredentials } from './infra-credentials.ts';
import { nodeExporterCollectors, standaloneNodeExporterSpec, standaloneRedisExporterSpec, standaloneRedisSpec } from './servers.ts';
import { startServer, stopServer, type ServerSpec } from './supervisor.ts';

/** Servers of their own (never the shared test Redis, which may predate the tower-monitor user), stopped after each test. */
const started: ServerSpec[] = [];
const roots: string[] = [];
async function start(spec: ServerSpec): Promise<void> {
  started.push(spec);
  await startServer(spec);
}
function scratchRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-exporters-'));
  roots.push(root);
  return root;
}
afterEach(async () => {
  for (const spec of started.splice(0).reverse()) await stopServer(spec);
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

const documented = (source: string) => infrastructureMetrics().filter((row) => row.source.startsWith(source));

describe('the Redis exporter (Debian prometheus-redis-exporter, as tower-monitor)', () => {
  test('reads Redis with only the commands tower-monitor may run, and serves every Redis row of docs/metrics.md', { timeout: 120_000 }, async ({ logger }) => {
    const root = scratchRoot();
    const credentials = newInfraCredentials();
    await start(standaloneRedisSpec(root, 27379, credentials));
    await start(standaloneRedisExporterSpec(root, 27121, 27379, credentials));
    const as = (user: 'tower-admin' | 'tower-monitor'): Redis => createRedis('redis://127.0.0.1:27379', { connectionName: `exporter-test-${user}`, logger, username: user, password: credentials.redis[user] });
    const admin = as('tower-admin');
    const monitor = as('tower-monitor');
    try {
      await Promise.all([connectRedis(admin), connectRedis(monitor)]);
      await admin.call('ACL', 'LOG', 'RESET');
      // A key in db0, as the tower's Redis has: redis_db_keys is then served whether or not the exporter
      // also reports the databases without keys (Debian's 1.45 does, with 0).
      await admin.set('slots:secret', 'booking');
      const rows = documented('Redis exporter');
      expect(rows.length).toBeGreaterThan(5);
      const families = await eventually(
        async () => {
          const scraped = await scrape(27121);
          const differences = differencesFromDocs(scraped, rows);
          if (differences.length > 0) throw new Error(differences.join('; '));
          return scraped;
        },
        { what: 'every documented Redis metric on the exporter', timeoutMs: 30_000 },
      );
      expect(families.get('redis_up')?.samples[0]?.value).toBe(1);
      expect(families.get('redis_aof_enabled')?.samples[0]?.value).toBe(1);
      expect(families.get('redis_db_keys')?.samples.find((s) => s.labels['db'] === 'db0')?.value).toBe(1);
      // A second scrape, then: Redis refused the exporter nothing (each refusal is an ACL LOG entry).
      await scrape(27121);
      expect(await admin.call('ACL', 'LOG')).toEqual([]);
      // And tower-monitor reads no key and changes nothing.
      await expect(monitor.get('slots:secret')).rejects.toThrow(/NOPERM/);
      await expect(monitor.call('KEYS', '*')).rejects.toThrow(/NOPERM/);
      await expect(monitor.call('CONFIG', 'SET', 'maxmemory', '1')).rejects.toThrow(/NOPERM/);
      await expect(monitor.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
    } finally {
      admin.disconnect();
      monitor.disconnect();
    }
  });
});

describe('the node exporter (Debian prometheus-node-exporter)', () => {
  test('runs only the chosen collectors and serves every host row of docs/metrics.md', { timeout: 60_000 }, async () => {
    await start(standaloneNodeExporterSpec(scratchRoot(), 27100));
    // Pressure stall information only where the kernel has it (/proc/pressure, Linux 4.20 with PSI on).
    const pressure = fs.existsSync('/proc/pressure');
    const rows = documented('Node exporter').filter((row) => pressure || !row.name.startsWith('node_pressure_'));
    expect(rows.length).toBeGreaterThan(5);
    const families = await scrape(27100);
    expect(differencesFromDocs(families, rows)).toEqual([]);
    const collectors = families.get('node_scrape_collector_success')?.samples ?? [];
    expect(collectors.map((s) => s.labels['collector']).sort()).toEqual([...nodeExporterCollectors].sort());
    expect(collectors.filter((s) => s.value !== 1).map((s) => s.labels['collector'])).toEqual(pressure ? [] : ['pressure']);
  });
});
