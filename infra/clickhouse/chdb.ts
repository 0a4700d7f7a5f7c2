import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface ChdbResult {
  ok: boolean;
  error?: string;
  /** The statement's result as JSONEachRow text ('' for DDL and inserts). */
  output?: string;
}

/**
 * Runs statements in order through chDB, the current ClickHouse engine in-process (via
 * chdb_check.py). This machine's server is 18.16 and docker-compose runs a current
 * one: what passes both works on both.
 */
export function runInChdb(statements: readonly string[], database = 'tower'): { engine: string; results: ChdbResult[] } {
  const out = execFileSync('python3', [path.join(import.meta.dirname, 'chdb_check.py')], {
    input: JSON.stringify({ database, statements }),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as { engine: string; results: ChdbResult[] };
}

/** JSONEachRow text as rows. */
export function parseJsonEachRow(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
