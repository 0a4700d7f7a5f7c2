import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MigrationError, addedColumns, loadMigrations, splitStatements } from './migrations.ts';

describe('splitStatements', () => {
  it('splits on semicolons outside strings and comments', () => {
    const script = `
      -- a comment; with a semicolon
      CREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory;
      /* block; comment */ INSERT INTO a VALUES ('it\\'s; fine');
      SELECT "quoted;ident", \`back;tick\` FROM a
    `;
    expect(splitStatements(script)).toEqual([
      "CREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory",
      "INSERT INTO a VALUES ('it\\'s; fine')",
      'SELECT "quoted;ident", `back;tick` FROM a',
    ]);
  });

  it('drops comment-only and empty fragments', () => {
    expect(splitStatements('-- only a comment\n;;  ;\n/* x */;')).toEqual([]);
  });

  it('reports unterminated quotes and comments', () => {
    expect(() => splitStatements("SELECT 'open")).toThrow(MigrationError);
    expect(() => splitStatements('SELECT 1 /* open')).toThrow(MigrationError);
  });
});

describe('loadMigrations', () => {
  const withFiles = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };

  it('orders by version and checksums the text', () => {
    const dir = withFiles({ '0002_b.sql': 'SELECT 2;', '0001_a.sql': 'SELECT 1; SELECT 11;' });
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => [m.version, m.name, m.statements.length])).toEqual([
      [1, 'a', 2],
      [2, 'b', 1],
    ]);
    expect(migrations[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects badly named, empty and duplicate-version files', () => {
    expect(() => loadMigrations(withFiles({ '1_a.sql': 'SELECT 1' }))).toThrow(/NNNN_lower_snake_name/);
    expect(() => loadMigrations(withFiles({ '0001_a.sql': '-- nothing' }))).toThrow(/no statements/);
    expect(() => loadMigrations(withFiles({ '0001_a.sql': 'SELECT 1', '0001_b.sql': 'SELECT 2' }))).toThrow(/two migrations have version 1/);
  });
});

describe('the repository migrations', () => {
  const dir = path.resolve(import.meta.dirname, '../../../infra/clickhouse/migrations');

  it('are safe to re-run: every CREATE says IF NOT EXISTS', () => {
    for (const migration of loadMigrations(dir)) {
      for (const statement of migration.statements) {
        if (/^\s*CREATE\b/i.test(statement)) expect(statement, `${migration.name}: ${statement.slice(0, 60)}`).toMatch(/^\s*CREATE\s+(MATERIALIZED\s+VIEW|TABLE|VIEW|DATABASE)\s+IF\s+NOT\s+EXISTS\b/i);
        // 18.16 has no ADD COLUMN IF NOT EXISTS: the runner skips an ALTER whose columns exist, so it must only add columns.
        if (/^\s*ALTER\b/i.test(statement)) expect(addedColumns(statement), `${migration.name}: ${statement.slice(0, 60)}`).toBeDefined();
      }
    }
  });
});

describe('ADD COLUMN statements', () => {
  it('name their table and every column added, types with commas included', () => {
    expect(addedColumns('ALTER TABLE truck_events ADD COLUMN crossed_kg UInt32 AFTER turnaround_ms')).toEqual({ table: 'truck_events', columns: ['crossed_kg'] });
    expect(addedColumns('alter table throughput_1m add column trucks_unweighed AggregateFunction(sum, UInt64) AFTER trucks_crossed, ADD COLUMN x String')).toEqual({
      table: 'throughput_1m',
      columns: ['trucks_unweighed', 'x'],
    });
  });

  it('are not any other statement, nor an ALTER that does more than add columns', () => {
    expect(addedColumns('CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Memory')).toBeUndefined();
    expect(addedColumns('ALTER TABLE t DROP COLUMN x')).toBeUndefined();
    expect(addedColumns('ALTER TABLE t ADD COLUMN x UInt8, DROP COLUMN y')).toBeUndefined();
  });
});
