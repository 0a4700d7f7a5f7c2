import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createClickHouse, selectRows, type ClickHouseClient, type ClickHouseSettings } from './client.ts';
import { identifier, sql } from './sql.ts';

/**
 * Versioned ClickHouse migrations: `NNNN_name.sql` files applied in order and recorded
 * in `schema_migrations`. ClickHouse has no transactional DDL, so a migration must be
 * safe to re-run (`CREATE ... IF NOT EXISTS`): when one fails half-way it is not
 * recorded, and the next run executes it again from the top. A recorded migration
 * whose file has changed since is an error, never silently skipped.
 *
 * SQL must run on ClickHouse 18.16 (what this machine has) and on current releases
 * (docker-compose); the test suite runs every migration through both.
 */
export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

export class MigrationError extends Error {}

const fileName = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Splits a SQL script into statements on `;`, ignoring semicolons inside string
 * literals, quoted identifiers and comments. Comment-only fragments are dropped.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let hasCode = false;
  let i = 0;
  while (i < script.length) {
    const ch = script[i] as string;
    const next = script[i + 1];
    if (ch === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2);
      if (end === -1) throw new MigrationError('unterminated /* comment');
      i = end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < script.length && script[j] !== ch) j += script[j] === '\\' ? 2 : 1;
      if (j >= script.length) throw new MigrationError(`unterminated ${ch} quote`);
      current += script.slice(i, j + 1);
      hasCode = true;
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      if (hasCode) statements.push(current.trim());
      current = '';
      hasCode = false;
      i += 1;
      continue;
    }
    current += ch;
    if (!/\s/.test(ch)) hasCode = true;
    i += 1;
  }
  if (hasCode) statements.push(current.trim());
  return statements;
}

export function loadMigrations(directory: string): Migration[] {
  const migrations = fs
    .readdirSync(directory)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = fileName.exec(file);
      if (!match) throw new MigrationError(`${file}: migration files are named NNNN_lower_snake_name.sql`);
      const text = fs.readFileSync(path.join(directory, file), 'utf8');
      const statements = splitStatements(text);
      if (statements.length === 0) throw new MigrationError(`${file}: has no statements`);
      return {
        version: Number(match[1]),
        name: match[2] as string,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements,
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]?.version === m.version) throw new MigrationError(`two migrations have version ${m.version}`);
  });
  return migrations;
}

const addColumnStatement = /^\s*ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(ADD\s+COLUMN\b[\s\S]*)$/i;
const addColumnClause = /^\s*ADD\s+COLUMN\s+([A-Za-z_][A-Za-z0-9_]*)\s/i;

/**
 * The table and columns of an `ALTER TABLE t ADD COLUMN a ..., ADD COLUMN b ...`
 * statement; undefined for any other statement (or an ALTER that does more than add
 * columns). ClickHouse 18.16 has no `ADD COLUMN IF NOT EXISTS`, so the runner skips such
 * a statement when every column is already there: a migration that failed after its
 * ALTER re-runs from the top like any other.
 */
export function addedColumns(statement: string): { table: string; columns: string[] } | undefined {
  const match = addColumnStatement.exec(statement);
  if (!match) return undefined;
  const clauses = splitTopLevel(match[2] as string);
  const columns = clauses.map((clause) => addColumnClause.exec(clause)?.[1]);
  if (columns.some((c) => c === undefined)) return undefined;
  return { table: match[1] as string, columns: columns as string[] };
}

/** Splits on commas outside parentheses (`AggregateFunction(sum, UInt64)` stays whole). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    else if (text[i] === ')') depth -= 1;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Creates the database if needed and applies pending migrations in order. Statements
 * run on a connection bound to the target database, so migrations use unqualified
 * table names and the same files serve any database (tests use a fresh one each).
 */
export async function applyMigrations(
  settings: ClickHouseSettings,
  migrations: readonly Migration[],
  onApplied: (label: string) => void = () => undefined,
): Promise<MigrationReport> {
  const db = identifier(settings.database);
  const bootstrap = createClickHouse({ ...settings, database: 'default' });
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  } finally {
    await bootstrap.close();
  }
  const client = createClickHouse(settings);
  try {
    await client.command({
      query: 'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree() ORDER BY version',
    });
    const ledger = await (await client.query({ query: 'SELECT version, name, checksum FROM schema_migrations ORDER BY version', format: 'JSONEachRow' })).json<LedgerRow>();
    const recorded = new Map(ledger.map((row) => [Number(row.version), row]));
    const newest = Math.max(0, ...recorded.keys());
    const report: MigrationReport = { applied: [], alreadyApplied: [] };

    for (const migration of migrations) {
      const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
      const done = recorded.get(migration.version);
      if (done) {
        if (done.checksum !== migration.checksum) {
          throw new MigrationError(`${label} was applied but its file has changed since; add a new migration instead of editing an applied one`);
        }
        report.alreadyApplied.push(label);
        continue;
      }
      if (migration.version < newest) {
        throw new MigrationError(`${label} is older than the newest applied migration (${newest}); number new migrations after it`);
      }
      for (const [index, statement] of migration.statements.entries()) {
        try {
          if (await columnsAlreadyAdded(client, statement)) continue;
          await client.command({ query: statement });
        } catch (error) {
          throw new MigrationError(`${label}, statement ${index + 1}: ${(error as Error).message}`);
        }
      }
      await client.insert({
        table: 'schema_migrations',
        format: 'JSONEachRow',
        values: [{ version: migration.version, name: migration.name, checksum: migration.checksum, applied_at: Math.floor(Date.now() / 1000) }],
      });
      report.applied.push(label);
      onApplied(label);
    }
    return report;
  } finally {
    await client.close();
  }
}

/** Whether an ADD COLUMN statement's columns are all there already; some but not all is an error. */
async function columnsAlreadyAdded(client: ClickHouseClient, statement: string): Promise<boolean> {
  const added = addedColumns(statement);
  if (!added) return false;
  const rows = await selectRows<{ name: string }>(client, sql`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${added.table} AND name IN ${added.columns}`);
  if (rows.length === 0) return false;
  if (rows.length === added.columns.length) return true;
  throw new MigrationError(`${added.table} has only some of the columns ${added.columns.join(', ')}: add the missing ones by hand`);
}
