/**
 * The exporter against real ClickHouse: the shared test server (its figures, a
 * database's tables and parts), a ClickHouse of its own that it watches as
 * tower_monitor while it is stopped and started again, its SQL on the current engine
 * (chDB), and the process itself started while ClickHouse is down.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createClickHouse, type ClickHouseSettings } from '@tower/shared';
import { eventually, test } from '@tower/shared/testing';
import { parseJsonEachRow, runInChdb } from '../../../infra/clickhouse/chdb.ts';
import { standaloneClickHouseSpec } from '../../../infra/local/servers.ts';
import { startServer, stopServer } from '../../../infra/local/supervisor.ts';
import { credentialEnv, serviceIdentities } from '../../../infra/local/infra-credentials.ts';
import { exited, freePort, startService } from '../../../test/support/service-processes.ts';
import { buildApp } from './app.ts';
import { readerQueries, SystemTablesReader } from './reader.ts';
import { readCountSeries, sampleValue as sample, tableSeries, upSeries as up } from './test-support.ts';

/** An exporter app reading ClickHouse with these settings; close() closes both. */
function exporter(settings: ClickHouseSettings) {
  const client = createClickHouse({ ...settings, requestTimeoutMs: 5000 });
  const { app } = buildApp({ logger: settings.logger, reader: new SystemTablesReader(client, settings.database) });
  return {
    scrape: async () => {
      const response = await app.inject({ url: '/metrics' });
      expect(response.statusCode).toBe(200);
      return response.body;
    },
    close: async () => {
      await app.close();
      await client.close();
    },
  };
}

/** A server that takes ClickHouse's connections and never answers. */
async function silentClickHouse() {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    },
  };
}

const createParts = async (client: { command(p: { query: string }): Promise<unknown> }, table: string) => {
  await client.command({ query: `CREATE TABLE ${table} (day Date, n UInt32) ENGINE = MergeTree PARTITION BY day ORDER BY n` });
  // Three inserts into one partition and one into another: 4 active parts, 3 in the fullest partition (before any merge).
  for (const [day, n] of [['2026-01-01', 1], ['2026-01-01', 2], ['2026-01-01', 3], ['2026-01-02', 4]] as const) {
    await client.command({ query: `INSERT INTO ${table} VALUES ('${day}', ${n})` });
  }
};

describe('clickhouse-exporter on real ClickHouse', () => {
  test("the shared server: its figures named as current ClickHouse names them, a database's tables with their parts, up 1", async ({ clickhouse, logger }) => {
    await createParts(clickhouse.client, 'crossings');
    await clickhouse.client.command({ query: 'CREATE TABLE empty_one (n UInt32) ENGINE = MergeTree ORDER BY n' });
    const watched = exporter({ ...clickhouse.settings, logger });
    try {
      const text = await watched.scrape();
      expect(sample(text, up)).toBe(1);
      const db = clickhouse.settings.database;
      expect(sample(text, tableSeries('tower_clickhouse_table_rows', db, 'crossings'))).toBe(4);
      // Merges may have joined parts by now: at least one, at most the four inserted.
      const parts = sample(text, tableSeries('tower_clickhouse_table_parts', db, 'crossings')) ?? 0;
      expect(parts).toBeGreaterThanOrEqual(2);
      expect(parts).toBeLessThanOrEqual(4);
      expect(sample(text, tableSeries('tower_clickhouse_max_part_count_for_partition', db, 'crossings'))).toBeLessThanOrEqual(3);
      expect(sample(text, tableSeries('tower_clickhouse_table_bytes', db, 'crossings'))).toBeGreaterThan(0);
      expect(sample(text, tableSeries('tower_clickhouse_merges_running', db, 'crossings'))).toBeGreaterThanOrEqual(0);
      expect(sample(text, tableSeries('tower_clickhouse_mutations_pending', db, 'crossings'))).toBe(0);
      // A MergeTree table without parts is listed with none.
      expect(sample(text, tableSeries('tower_clickhouse_table_parts', db, 'empty_one'))).toBe(0);
      // Only the watched database.
      expect(text).not.toMatch(/tower_clickhouse_table_parts\{database="(?!test_)/);
      // The server's own figures, typed as the current server types them.
      expect(text).toMatch(/^# TYPE ClickHouseMetrics_Query gauge\nClickHouseMetrics_Query \d+$/m);
      expect(text).toMatch(/^# TYPE ClickHouseProfileEvents_InsertedRows counter\nClickHouseProfileEvents_InsertedRows \d+$/m);
      expect(text).toMatch(/^# TYPE ClickHouseMetrics_MemoryTracking gauge$/m);
      const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
      for (const [, name] of types) expect(name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(new Set(types.map((t) => t[1])).size).toBe(types.length);
      expect(sample(text, readCountSeries)).toBe(1);
      // docs/metrics.md's ClickHouse rows: exported with their type (events only once they have happened, as 18.16 lists them).
      const documented = [...fs.readFileSync(path.join(import.meta.dirname, '../../../docs/metrics.md'), 'utf8').matchAll(/^\| `(ClickHouse\w+)` \| (\w+) \|/gm)];
      expect(documented.length).toBeGreaterThan(5);
      for (const [, name, type] of documented) {
        const exported = new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
        if (name!.startsWith('ClickHouseProfileEvents_') && exported === undefined) continue;
        expect(exported, name).toBe(type);
      }
    } finally {
      await watched.close();
    }
  });

  test('its statements run on the current engine too (chDB) and read the parts alike', () => {
    const queries = readerQueries('tower');
    const statements = [
      'CREATE TABLE crossings (day Date, n UInt32) ENGINE = MergeTree PARTITION BY day ORDER BY n',
      "INSERT INTO crossings VALUES ('2026-01-01', 1)",
      "INSERT INTO crossings VALUES ('2026-01-01', 2)",
      // chDB runs no server, so it has no system.asynchronous_metrics: a table with a current server's columns stands in.
      'CREATE TABLE async_stand_in (metric String, value Float64, description String) ENGINE = Memory',
      "INSERT INTO async_stand_in VALUES ('jemalloc.allocated', 1e9, 'Bytes allocated')",
      ...Object.values(queries).map((q) => q.text.replace('system.asynchronous_metrics', 'async_stand_in')),
    ];
    const { results } = runInChdb(statements);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    const [server, partitions, tables] = results.slice(5).map((r) => parseJsonEachRow(r.output ?? ''));
    expect(server?.some((row) => row['kind'] === 'metric' && row['name'] === 'Query')).toBe(true);
    expect(server?.filter((row) => row['kind'] === 'async')).toEqual([{ kind: 'async', name: 'jemalloc.allocated', value: 1e9, help: '' }]);
    expect(partitions?.map((row) => ({ table: row['table'], rows: Number(row['total_rows']) }))).toEqual([{ table: 'crossings', rows: 2 }]);
    expect(tables?.map((row) => row['name'])).toEqual(['crossings']);
  });

  test('a ClickHouse of its own, watched as tower_monitor: the tower tables, up 0 while it is stopped (200, no 5xx), up 1 once it is back; found running, it learns a changed user without a restart', { timeout: 180_000 }, async ({ infra, logger }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clickhouse-exporter-'));
    const port = 27323;
    const spec = standaloneClickHouseSpec(root, port, infra.credentials);
    await startServer(spec);
    const url = `http://127.0.0.1:${port}`;
    const admin = createClickHouse({ url, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: 'default', logger });
    const monitor = credentialEnv(infra.credentials, serviceIdentities['clickhouse-exporter'] ?? {});
    expect(monitor['CLICKHOUSE_USER']).toBe('tower_monitor');
    const watched = exporter({ url, username: monitor['CLICKHOUSE_USER']!, password: monitor['CLICKHOUSE_PASSWORD']!, database: 'tower', logger });
    try {
      await admin.command({ query: 'CREATE DATABASE tower' });
      await createParts(admin, 'tower.crossings');
      const text = await watched.scrape();
      expect(sample(text, up)).toBe(1);
      expect(sample(text, tableSeries('tower_clickhouse_table_rows', 'tower', 'crossings'))).toBe(4);

      // Read-only: the exporter's user cannot write or create.
      const asMonitor = createClickHouse({ url, username: 'tower_monitor', password: monitor['CLICKHOUSE_PASSWORD']!, database: 'tower', logger });
      await expect(asMonitor.command({ query: "INSERT INTO tower.crossings VALUES ('2026-01-03', 9)" })).rejects.toThrow(/readonly/i);
      await expect(asMonitor.command({ query: 'CREATE TABLE tower.other (n UInt8) ENGINE = Memory' })).rejects.toThrow(/readonly/i);
      await asMonitor.close();

      await stopServer(spec);
      const down = await watched.scrape();
      expect(sample(down, up)).toBe(0);
      expect(down).not.toContain('tower_clickhouse_table_parts{');
      expect(down).not.toContain('ClickHouseMetrics_');

      await startServer(spec);
      const back = await eventually(async () => {
        const again = await watched.scrape();
        return sample(again, up) === 1 ? again : undefined;
      }, { timeoutMs: 60_000, what: 'up 1 once ClickHouse is back' });
      expect(sample(back, tableSeries('tower_clickhouse_table_rows', 'tower', 'crossings'))).toBe(4);

      // A server found running learns users added or changed since it started (as tower_monitor was), without a restart.
      const changed = { ...infra.credentials, clickhouse: { ...infra.credentials.clickhouse, tower_monitor: `changed-${Date.now()}` } };
      expect(await startServer(standaloneClickHouseSpec(root, port, changed))).toBe('already-running');
      await eventually(async () => {
        const client = createClickHouse({ url, username: 'tower_monitor', password: changed.clickhouse.tower_monitor, database: 'system', logger });
        try {
          await client.command({ query: 'SELECT 1' });
          return true;
        } finally {
          await client.close();
        }
      }, { timeoutMs: 30_000, what: 'the running ClickHouse to know the changed user' });
    } finally {
      await watched.close();
      await admin.close();
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a ClickHouse that takes the connection and never answers: the scrape ends at the read timeout with up 0, and the next one reads again', async ({ logger }) => {
    const silent = await silentClickHouse();
    const client = createClickHouse({ url: silent.url, username: 'tower_monitor', password: 'unused', database: 'system', requestTimeoutMs: 500, logger });
    const { app } = buildApp({ logger, reader: new SystemTablesReader(client, 'tower') });
    try {
      for (const count of [1, 2]) {
        const response = await app.inject({ url: '/metrics' });
        expect(response.statusCode).toBe(200);
        expect(sample(response.body, up)).toBe(0);
        expect(sample(response.body, readCountSeries)).toBe(count);
      }
      // Each read waited for the timeout, no more than a scrape's worth.
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(sample(text, 'tower_clickhouse_scrape_duration_seconds_sum{service="clickhouse-exporter"}')).toBeGreaterThanOrEqual(3 * 0.5);
      expect(sample(text, 'tower_clickhouse_scrape_duration_seconds_bucket{le="5",service="clickhouse-exporter"}')).toBe(3);
    } finally {
      await app.close();
      await client.close();
      await silent.close();
    }
  });

  test("a ClickHouse slower than the scrape's own timeout: the scrape answers up 0 within it (Prometheus's header), not at the client's request timeout", async ({ logger }) => {
    const silent = await silentClickHouse();
    // The longest read timeout the configuration allows: without the scrape's budget, each scrape would wait a minute.
    const client = createClickHouse({ url: silent.url, username: 'tower_monitor', password: 'unused', database: 'system', requestTimeoutMs: 60_000, logger });
    const { app } = buildApp({ logger, reader: new SystemTablesReader(client, 'tower') });
    try {
      const response = await app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '2' } });
      expect(response.statusCode).toBe(200);
      expect(sample(response.body, up)).toBe(0);
      const text = (await app.inject({ url: '/metrics', headers: { 'x-prometheus-scrape-timeout-seconds': '2' } })).body;
      // Both reads gave up at the budget (1.5 s), within the 2 s Prometheus waits.
      expect(sample(text, readCountSeries)).toBe(2);
      expect(sample(text, 'tower_clickhouse_scrape_duration_seconds_bucket{le="2.5",service="clickhouse-exporter"}')).toBe(2);
      expect(sample(text, 'tower_clickhouse_scrape_duration_seconds_sum{service="clickhouse-exporter"}')).toBeLessThan(2 * 2);
    } finally {
      await app.close();
      await client.close();
      await silent.close();
    }
  });

  test('the process starts and is ready while nothing answers on its ClickHouse port, serves up 0, and stops cleanly on SIGTERM', { timeout: 120_000 }, async ({ infra }) => {
    const nobody = await freePort();
    const service = startService('clickhouse-exporter', { CLICKHOUSE_URL: `http://127.0.0.1:${nobody}`, ...credentialEnv(infra.credentials, serviceIdentities['clickhouse-exporter'] ?? {}) }, await freePort());
    try {
      await eventually(async () => {
        if (service.child.exitCode !== null) throw new Error(`exited: ${service.stderr()}`);
        return (await fetch(`http://127.0.0.1:${service.port}/readyz`)).ok ? true : undefined;
      }, { timeoutMs: 60_000, what: 'the exporter to be ready' });
      const response = await fetch(`http://127.0.0.1:${service.port}/metrics`);
      expect(response.status).toBe(200);
      expect(sample(await response.text(), up)).toBe(0);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await exited(service)).toBe(0);
  });
});
