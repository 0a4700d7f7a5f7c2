import { sql, type ClickHouseClient, type SqlFragment } from '@tower/shared';
import type { ServerFigure, ServerFigureKind } from './domain/exposition.ts';

/** One MergeTree table of the watched database, from its active parts. */
export interface TableFigures {
  database: string;
  table: string;
  parts: number;
  rows: number;
  /** Compressed, on disk. */
  bytes: number;
  /** Active parts of the table's fullest partition: inserts are delayed, then refused ("too many parts"), as it grows. */
  maxPartsPerPartition: number;
  mergesRunning: number;
  mutationsPending: number;
}

export interface ClickHouseReading {
  server: ServerFigure[];
  tables: TableFigures[];
}

/** What one scrape reads from ClickHouse; rejects when ClickHouse does not answer (within `budgetMs`, when given). */
export interface ClickHouseReader {
  read(budgetMs?: number): Promise<ClickHouseReading>;
}

/** JSONEachRow numbers: 18.16 quotes 64-bit integers, and writes NaN and infinities as null. */
const numberOf = (value: unknown): number => (value === null ? Number.NaN : Number(value));

/**
 * The statements, in SQL that 18.16 and current releases both run (the columns read
 * exist in both; 18.16's asynchronous_metrics has no description, so none is read).
 */
export function readerQueries(database: string): Record<'server' | 'partitions' | 'tables' | 'merges' | 'mutations', SqlFragment> {
  return {
    server: sql`SELECT 'metric' AS kind, metric AS name, toFloat64(value) AS value, description AS help FROM system.metrics
      UNION ALL SELECT 'event' AS kind, event AS name, toFloat64(value) AS value, description AS help FROM system.events
      UNION ALL SELECT 'async' AS kind, metric AS name, toFloat64(value) AS value, '' AS help FROM system.asynchronous_metrics`,
    partitions: sql`SELECT database, table, sum(partition_parts) AS parts, max(partition_parts) AS max_parts, sum(partition_rows) AS total_rows, sum(partition_bytes) AS total_bytes
      FROM (SELECT database, table, partition_id, count() AS partition_parts, sum(rows) AS partition_rows, sum(bytes_on_disk) AS partition_bytes
            FROM system.parts WHERE active AND database = ${database} GROUP BY database, table, partition_id)
      GROUP BY database, table`,
    tables: sql`SELECT database, name FROM system.tables WHERE database = ${database} AND engine LIKE '%MergeTree'`,
    merges: sql`SELECT database, table, count() AS merges FROM system.merges WHERE database = ${database} GROUP BY database, table`,
    mutations: sql`SELECT database, table, count() AS mutations FROM system.mutations WHERE database = ${database} AND is_done = 0 GROUP BY database, table`,
  };
}

/**
 * Reads system tables through the client: its request timeout bounds every statement,
 * and a scrape's budget (`read(budgetMs)`) the whole read, every statement aborted past it.
 */
export class SystemTablesReader implements ClickHouseReader {
  private readonly queries: ReturnType<typeof readerQueries>;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
  ) {
    this.queries = readerQueries(database);
  }

  async read(budgetMs?: number): Promise<ClickHouseReading> {
    const q = this.queries;
    const signal = budgetMs === undefined ? undefined : AbortSignal.timeout(budgetMs);
    const selectRows = async <T>(query: SqlFragment): Promise<T[]> => (await this.client.query({ query: query.text, format: 'JSONEachRow', abort_signal: signal })).json<T>();
    let answers;
    try {
      answers = await Promise.all([
        selectRows<{ kind: ServerFigureKind; name: string; value: number | null; help: string }>(q.server),
        selectRows<{ database: string; table: string; parts: string; max_parts: string; total_rows: string; total_bytes: string }>(q.partitions),
        selectRows<{ database: string; name: string }>(q.tables),
        selectRows<{ database: string; table: string; merges: string }>(q.merges),
        selectRows<{ database: string; table: string; mutations: string }>(q.mutations),
      ] as const);
    } catch (error) {
      if (signal?.aborted) throw new Error(`ClickHouse did not answer within the scrape's ${budgetMs} ms`, { cause: error });
      throw error;
    }
    const [server, partitions, tables, merges, mutations] = answers;
    const key = (database: string, table: string) => `${database}.${table}`;
    const figures = new Map<string, TableFigures>();
    const figuresOf = (database: string, table: string): TableFigures => {
      const existing = figures.get(key(database, table));
      if (existing) return existing;
      const empty: TableFigures = { database, table, parts: 0, rows: 0, bytes: 0, maxPartsPerPartition: 0, mergesRunning: 0, mutationsPending: 0 };
      figures.set(key(database, table), empty);
      return empty;
    };
    for (const row of tables) figuresOf(row.database, row.name);
    for (const row of partitions) {
      Object.assign(figuresOf(row.database, row.table), {
        parts: numberOf(row.parts),
        rows: numberOf(row.total_rows),
        bytes: numberOf(row.total_bytes),
        maxPartsPerPartition: numberOf(row.max_parts),
      });
    }
    for (const row of merges) figuresOf(row.database, row.table).mergesRunning = numberOf(row.merges);
    for (const row of mutations) figuresOf(row.database, row.table).mutationsPending = numberOf(row.mutations);
    return {
      server: server.map((row) => ({ kind: row.kind, name: row.name, value: numberOf(row.value), help: row.help })),
      tables: [...figures.values()],
    };
  }
}
