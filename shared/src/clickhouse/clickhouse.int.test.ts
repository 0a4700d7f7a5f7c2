import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '../testing/fixtures.ts';
import { MigrationError, applyMigrations, loadMigrations } from './migrations.ts';
import { stringLiteral } from './sql.ts';

const repoMigrations = path.resolve(import.meta.dirname, '../../../infra/clickhouse/migrations');

describe('ClickHouse (real server)', () => {
  test('applies every repository migration once and records it', async ({ clickhouse }) => {
    const migrations = loadMigrations(repoMigrations);
    const first = await applyMigrations(clickhouse.settings, migrations);
    expect(first.applied).toHaveLength(migrations.length);
    const again = await applyMigrations(clickhouse.settings, migrations);
    expect(again).toEqual({ applied: [], alreadyApplied: first.applied });
    const ledger = await (await clickhouse.client.query({ query: 'SELECT version, checksum FROM schema_migrations ORDER BY version', format: 'JSONEachRow' })).json<{ version: number; checksum: string }>();
    expect(ledger.map((r) => r.checksum)).toEqual(migrations.map((m) => m.checksum));
  });

  test('refuses an applied migration whose file changed, and one numbered before the newest', async ({ clickhouse }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    fs.writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = Memory');
    await applyMigrations(clickhouse.settings, loadMigrations(dir));
    fs.writeFileSync(path.join(dir, '0001_a.sql'), 'CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = Memory');
    await expect(applyMigrations(clickhouse.settings, loadMigrations(dir))).rejects.toThrow(/0001_a is older than the newest applied migration/);
    fs.rmSync(path.join(dir, '0001_a.sql'));
    fs.writeFileSync(path.join(dir, '0002_b.sql'), 'CREATE TABLE IF NOT EXISTS b (x UInt16) ENGINE = Memory');
    await expect(applyMigrations(clickhouse.settings, loadMigrations(dir))).rejects.toThrow(MigrationError);
  });

  test('a failing statement names the migration and is not recorded', async ({ clickhouse }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    fs.writeFileSync(path.join(dir, '0001_broken.sql'), 'CREATE TABLE IF NOT EXISTS ok (x UInt8) ENGINE = Memory; CREATE TABLE nonsense');
    await expect(applyMigrations(clickhouse.settings, loadMigrations(dir))).rejects.toThrow(/0001_broken, statement 2/);
    const count = await (await clickhouse.client.query({ query: 'SELECT count() AS n FROM schema_migrations', format: 'JSONEachRow' })).json<{ n: string }>();
    expect(count[0]?.n).toBe('0');
  });

  test('a migration that failed after adding a column runs again from the top (18.16 has no ADD COLUMN IF NOT EXISTS)', async ({ clickhouse }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    const file = path.join(dir, '0001_add.sql');
    const script = (last: string) => `CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree() ORDER BY x; ALTER TABLE t ADD COLUMN y UInt8, ADD COLUMN z AggregateFunction(sum, UInt64); ${last}`;
    fs.writeFileSync(file, script('CREATE TABLE nonsense'));
    await expect(applyMigrations(clickhouse.settings, loadMigrations(dir))).rejects.toThrow(/0001_add, statement 3/);
    fs.writeFileSync(file, script('CREATE TABLE IF NOT EXISTS u (x UInt8) ENGINE = Memory'));
    expect((await applyMigrations(clickhouse.settings, loadMigrations(dir))).applied).toEqual(['0001_add']);
    const columns = await (await clickhouse.client.query({ query: "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 't' ORDER BY name", format: 'JSONEachRow' })).json<{ name: string }>();
    expect(columns.map((c) => c.name)).toEqual(['x', 'y', 'z']);
  });

  test('inserts and selects JSONEachRow rows in a migrated table', async ({ clickhouse }) => {
    await applyMigrations(clickhouse.settings, loadMigrations(repoMigrations));
    const rows = Array.from({ length: 100 }, (_, i) => ({
      dead_lettered_at: '2026-11-22 10:00:00',
      consumer: 'aggregator',
      source_topic: 'tower.trucks.v1',
      source_partition: i % 6,
      source_offset: i,
      message_key: `14C-${String(i).padStart(5, '0')}`,
      reason: 'unknown schema fingerprint',
      error_kind: 'decode',
      payload_base64: Buffer.from(`payload ${i}`).toString('base64'),
    }));
    await clickhouse.client.insert({ table: 'dead_letters', values: rows, format: 'JSONEachRow' });
    const result = await clickhouse.client.query({ query: 'SELECT source_partition, count() AS n FROM dead_letters GROUP BY source_partition ORDER BY source_partition', format: 'JSONEachRow' });
    expect(await result.json()).toEqual([0, 1, 2, 3, 4, 5].map((p) => ({ source_partition: p, n: String(rows.filter((r) => r.source_partition === p).length) })));
  });

  test('string literals round-trip unchanged through the real engine', async ({ clickhouse }) => {
    const tricky = ["it's", 'back\\slash', "\\'; DROP TABLE x; --", 'Bắc Luân II 北仑', 'tab\tnew\nline', 'null\0byte'];
    for (const value of tricky) {
      const result = await clickhouse.client.query({ query: `SELECT ${stringLiteral(value)} AS v`, format: 'JSONEachRow' });
      expect((await result.json<{ v: string }>())[0]?.v).toBe(value);
    }
  });
});
