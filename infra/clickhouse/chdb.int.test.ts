import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addedColumns, loadMigrations } from '../../shared/src/clickhouse/migrations.ts';
import { runInChdb } from './chdb.ts';

describe('migrations on the current ClickHouse engine (chDB)', () => {
  it('accepts every migration, applied twice (as the runner re-runs one: an ADD COLUMN whose columns exist is skipped)', () => {
    const migrations = loadMigrations(path.join(import.meta.dirname, 'migrations'));
    const statements = migrations.flatMap((m) => m.statements.map((s) => ({ label: `${m.version}_${m.name}`, s })));
    const all = [...statements, ...statements.filter((x) => addedColumns(x.s) === undefined)];
    const { engine, results } = runInChdb(all.map((x) => x.s));
    expect(Number(engine.split('.')[0])).toBeGreaterThanOrEqual(24);
    const failures = results.flatMap((r, i) => (r.ok ? [] : [`${all[i]?.label}: ${r.error}`]));
    expect(failures).toEqual([]);
  });

  it('reports a statement the current engine rejects', () => {
    const { results } = runInChdb(['CREATE TABLE old_style (d Date, x UInt8) ENGINE = MergeTree(d, x, 8192)']);
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.error).toMatch(/deprecated/);
  });
});
