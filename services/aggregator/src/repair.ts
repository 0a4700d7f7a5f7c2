import { selectRows, sql, sqlIdentifier, sqlJoin, viewSelectOver, type ClickHouseClient, type SqlFragment } from '@tower/shared';
import type { RawRow } from './domain/rows.ts';

/**
 * The count each aggregate table keeps of the raw rows it was fed: the figure that tells
 * whether a window holds every row. A new aggregate table (a view's target) needs its line.
 */
const countColumns: Readonly<Record<string, string>> = { throughput_1m: 'events', throughput_1h: 'events', people_1m: 'people' };

/**
 * Aggregate tables of max and argMax states only (migration 0009): a row fed twice
 * changes nothing, so the hours in doubt are fed again through their views, never
 * compared, deleted or counted.
 */
const idempotentTables: ReadonlySet<string> = new Set(['lane_last_1d']);

/** Most windows named in one statement (18.16's `max_query_size` is 256 KiB). */
const windowsPerStatement = 1000;
const pollMs = 100;
/**
 * A deletion pending this long is nudged (see `deletionsDone`), and again at most this
 * often while it stays pending: long enough that a deletion merely working through a big
 * table is left alone, short enough that a parked one costs seconds, not minutes.
 */
const nudgeDefaults = { afterMs: 3000, everyMs: 30_000 } as const;
/** A mutation that changes nothing: sending one wakes the table's background task. */
const nudge = (table: string) => sql`ALTER TABLE ${sqlIdentifier(table)} DELETE WHERE 0`;

export interface RepairSettings {
  /** The `query_id` prefix of every insert of raw rows by the aggregator (EventStore's). */
  insertQueryIdPrefix: string;
  /**
   * Longest one run waits, in all, for the server's inserts and deletions to finish: past
   * it the run fails (the doubt stays) and the runner tries again after its backoff, so a
   * deletion that never finishes shows in the log and in readiness instead of holding the
   * batch silently. (The runner heartbeats while the batch runs: this bounds the wait, it
   * does not protect the session.)
   */
  waitBudgetMs: number;
  /** When a pending deletion is nudged, and how often again (defaults: after 3 s, every 30 s). */
  nudge?: { afterMs: number; everyMs: number };
}

/** The run waited its budget for the server: retried with the batch (transient), never a reason to dead-letter. */
export class RepairWaitExceeded extends Error {
  readonly retriable = true;
}

interface View {
  name: string;
  source: string;
  createQuery: string;
}

interface AggregateTable {
  name: string;
  /** Fed again where in doubt (idempotentTables), not compared and rebuilt. */
  idempotent: boolean;
  /** The sorting key but the window: the dimensions of a window. */
  keys: string[];
  columns: string[];
  views: View[];
}

/** One window of one aggregate table: its dimensions' values, then its start (Unix seconds). */
type WindowKey = (string | number)[];

/** A window whose count differs from the raw rows', and whether the aggregate table holds any row of it. */
interface DifferingWindow {
  window: WindowKey;
  stored: boolean;
}

/** A window rebuilt: its dimensions by column name (`site`, `lane`, …) and `window_start` in Unix seconds. */
export type RebuiltWindow = Readonly<Record<string, string | number>>;

/**
 * Repairs the aggregates after inserts whose fate is unknown. ClickHouse 18.16 (and
 * current releases alike) writes an insert into a raw table as its own part first and
 * then one part per materialized view, each committed on its own, none atomic with the
 * others: a server killed between them keeps raw rows that the 1-minute and 1-hour
 * aggregates never counted (drill `clickhouse-kill` sees it on most kills). The
 * aggregator resumes after the highest stored offset, so it would never send those
 * rows again. Every failed insert therefore leaves its rows' (site, UTC hour) in doubt;
 * before the next insert, each aggregate table's windows there are compared with the
 * raw rows through the views' own SELECTs, and a window that differs is deleted and
 * rebuilt from the raw rows, until they agree; a table of max and argMax states only is
 * fed the hours' raw rows again instead (idempotentTables). The caller holds its inserts
 * meanwhile.
 */
export class AggregateRepair {
  /** `site|hour` → the (site, hour start in Unix seconds) in doubt. */
  private readonly doubtful = new Map<string, [string, number]>();
  private tables?: AggregateTable[];
  /** Per aggregate table: since when a deletion is seen pending (across runs), and when it was last nudged. */
  private readonly pendingSince = new Map<string, number>();
  private readonly nudgedAt = new Map<string, number>();

  constructor(
    private readonly client: ClickHouseClient,
    private readonly settings: RepairSettings,
    private readonly onRebuilt: (table: string, windows: readonly RebuiltWindow[]) => void = () => undefined,
  ) {}

  get pending(): boolean {
    return this.doubtful.size > 0;
  }

  /** The rows of an insert that failed: their raw part may be stored without the views' parts. */
  noteFailed(rows: readonly RawRow[]): void {
    for (const row of rows) {
      const site = String(row['site']);
      const hour = Math.floor(Number(row['observed_ms']) / 3_600_000) * 3600;
      this.doubtful.set(`${site}|${hour}`, [site, hour]);
    }
  }

  /**
   * Compares and rebuilds until every aggregate agrees with the raw rows where in doubt;
   * the windows rebuilt. First waits until no insert of the aggregator's that runs on the
   * server now (sent by an earlier process, or one whose request died while the server
   * kept it) is still running, and no deletion of an earlier run is pending: their parts
   * would otherwise land after the comparison. The caller holds its own inserts. Throws
   * (and keeps the doubt) when ClickHouse fails or the waits pass `waitBudgetMs`.
   */
  async run(): Promise<number> {
    if (this.doubtful.size === 0) return 0;
    const deadline = Date.now() + this.settings.waitBudgetMs;
    await waitForServerQueries(this.client, this.settings.insertQueryIdPrefix, new Set(), deadline);
    const inDoubt = [...this.doubtful.values()];
    this.tables ??= await this.loadTables();
    let rebuilt = 0;
    for (const table of this.tables) {
      if (table.idempotent) {
        await this.feedAgain(table, inDoubt);
        continue;
      }
      await this.deletionsDone(table, deadline);
      const differing = await this.differing(table, inDoubt);
      if (differing.length > 0) {
        await this.rebuild(table, differing, inDoubt, deadline);
        const still = await this.differing(table, inDoubt);
        if (still.length > 0) throw new Error(`${table.name}: ${still.length} windows still disagree with the raw rows after a rebuild`);
        this.onRebuilt(
          table.name,
          differing.map(({ window }) => Object.fromEntries([...table.keys.map((k, i) => [k, window[i]!]), ['window_start', window.at(-1)!]])),
        );
        rebuilt += differing.length;
      }
    }
    for (const [site, hour] of inDoubt) this.doubtful.delete(`${site}|${hour}`);
    return rebuilt;
  }

  /** The aggregate tables the raw tables feed, with their views, read from the server (the migrations are the one definition). */
  private async loadTables(): Promise<AggregateTable[]> {
    const views = await selectRows<{ name: string; create_table_query: string }>(
      this.client,
      sql`SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView' ORDER BY name`,
    );
    const byTarget = new Map<string, View[]>();
    for (const view of views) {
      const target = /\sTO\s+(?:`?\w+`?\.)?`?(\w+)`?/i.exec(view.create_table_query)?.[1];
      const source = /\sFROM\s+(?:`?\w+`?\.)?`?(\w+)`?/i.exec(view.create_table_query.slice(view.create_table_query.search(/\sAS\s+SELECT\s/i)))?.[1];
      if (!target || !source) throw new Error(`cannot read the target and source of view ${view.name}`);
      if (!(target in countColumns) && !idempotentTables.has(target)) throw new Error(`view ${view.name} feeds ${target}, which AggregateRepair does not know (add its count column, or list it as idempotent)`);
      byTarget.set(target, [...(byTarget.get(target) ?? []), { name: view.name, source, createQuery: view.create_table_query }]);
    }
    const tables: AggregateTable[] = [];
    for (const [name, tableViews] of byTarget) {
      const [described] = await selectRows<{ sorting_key: string }>(this.client, sql`SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = ${name}`);
      const columns = await selectRows<{ name: string }>(this.client, sql`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${name}`);
      const keys = (described?.sorting_key ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '' && k !== 'window_start');
      tables.push({ name, idempotent: idempotentTables.has(name), keys, columns: columns.map((c) => c.name), views: tableViews });
    }
    return tables;
  }

  /**
   * The windows of `table` in the hours in doubt whose count differs from what its views
   * make of the raw rows, and whether the table holds any row of each (a window it lacks
   * is inserted, never deleted first).
   */
  private async differing(table: AggregateTable, inDoubt: [string, number][]): Promise<DifferingWindow[]> {
    const keys = sqlJoin(table.keys.map(sqlIdentifier), ', ');
    const count = sqlIdentifier(countColumns[table.name]!);
    const counted = async (from: SqlFragment, where: SqlFragment) =>
      selectRows<Record<string, string | number>>(this.client, sql`SELECT ${keys}, toUInt32(window_start) AS window_s, sumMerge(${count}) AS n FROM ${from} WHERE ${where} GROUP BY ${keys}, window_s`);
    const expected = new Map<string, number>();
    const windows = new Map<string, DifferingWindow>();
    const add = (rows: Record<string, string | number>[], sign: number) => {
      for (const row of rows) {
        const window: WindowKey = [...table.keys.map((k) => String(row[k])), Number(row['window_s'])];
        const id = JSON.stringify(window);
        const known = windows.get(id) ?? { window, stored: false };
        windows.set(id, { window, stored: known.stored || sign < 0 });
        expected.set(id, (expected.get(id) ?? 0) + sign * Number(row['n']));
      }
    };
    for (const view of table.views) add(await counted(sql`(${viewSelectOver(view.createQuery, inHours('observed_at', inDoubt))})`, sql`1`), 1);
    add(await counted(sqlIdentifier(table.name), inHours('window_start', inDoubt)), -1);
    return [...expected].filter(([, difference]) => difference !== 0).map(([id]) => windows.get(id)!);
  }

  /**
   * Waits until the table has no deletion pending (a mutation of an earlier run that
   * passed its budget goes on on the server: comparing before it is done would read the
   * windows half deleted). Past `deadline` it throws; the next run waits again.
   *
   * A deletion pending for `nudge.afterMs` (3 s) is nudged with a mutation that changes nothing.
   * ClickHouse 18.16 runs a table's merges and mutations in one background task that,
   * each time it finds nothing it can do (a merge or mutation failing on a full disk, or
   * blocked), sleeps 10 s × 1.1^n, up to 600 s, n counting such runs in a row; only a new
   * part or a new mutation wakes it early. The repair holds the aggregator's inserts, so
   * nothing else wakes it: after ClickHouse's disk was full, a deletion sent then sat
   * for minutes with space free again (the disk-full drill failed so on CI). A new
   * mutation wakes the task at once (measured on 18.16: both done 8 ms after it, 6.6 s
   * without), and applies to parts as cheaply as the deletion it follows.
   */
  private async deletionsDone(table: AggregateTable, deadline: number): Promise<void> {
    for (;;) {
      const pending = await selectRows<{ mutation_id: string; created: string; parts_to_do: string | number }>(
        this.client,
        sql`SELECT mutation_id, toString(create_time) AS created, parts_to_do FROM system.mutations WHERE database = currentDatabase() AND table = ${table.name} AND is_done = 0 ORDER BY create_time`,
      );
      const now = Date.now();
      if (pending.length === 0) {
        this.pendingSince.delete(table.name);
        return;
      }
      const since = this.pendingSince.get(table.name) ?? now;
      this.pendingSince.set(table.name, since);
      const { afterMs, everyMs } = this.settings.nudge ?? nudgeDefaults;
      if (now - since >= afterMs && now - (this.nudgedAt.get(table.name) ?? -Infinity) >= everyMs) {
        this.nudgedAt.set(table.name, now);
        await this.client.command({ query: nudge(table.name).text });
      }
      if (now >= deadline) {
        const which = pending.map((m) => `${m.mutation_id} sent ${m.created}, ${m.parts_to_do} parts to do`).join('; ');
        throw new RepairWaitExceeded(
          `${table.name}: the deletion of windows to rebuild has not finished within the repair's ${this.settings.waitBudgetMs / 1000} s (${which}; it goes on on the server; the windows stay in doubt and the next try waits for it first)`,
        );
      }
      await sleep(pollMs);
    }
  }

  /** Inserts the raw rows of the hours in doubt again through each view of an idempotent table (max, argMax: what it holds already is unchanged). */
  private async feedAgain(table: AggregateTable, inDoubt: [string, number][]): Promise<void> {
    const columns = sqlJoin(table.columns.map(sqlIdentifier), ', ');
    for (const view of table.views) {
      await this.client.command({ query: sql`INSERT INTO ${sqlIdentifier(table.name)} (${columns}) SELECT ${columns} FROM (${viewSelectOver(view.createQuery, inHours('observed_at', inDoubt))})`.text });
    }
  }

  /**
   * Deletes the windows the table holds rows of (mutations of at most
   * `windowsPerStatement` windows each, all sent before any is awaited, then awaited
   * within the run's budget) and inserts every window again from the raw rows through
   * every view of the table. A deletion that outlasts the budget finishes on the server:
   * the next run finds those windows empty and only inserts them, so a server slower than
   * the budget at each deletion still gets its windows rebuilt (deleting them again every
   * run never ended; nor does sending the second thousand only after the first is done,
   * which the next run would then delete again).
   */
  private async rebuild(table: AggregateTable, differing: DifferingWindow[], inDoubt: [string, number][], deadline: number): Promise<void> {
    const where = (windows: readonly DifferingWindow[]) => sql`(${sqlJoin(table.keys.map(sqlIdentifier), ', ')}, toUInt32(window_start)) IN (${tupleList(windows.map((w) => w.window))})`;
    const inStatements = <T>(items: readonly T[]) => Array.from({ length: Math.ceil(items.length / windowsPerStatement) }, (_, i) => items.slice(i * windowsPerStatement, (i + 1) * windowsPerStatement));
    const held = inStatements(differing.filter((w) => w.stored));
    for (const windows of held) await this.client.command({ query: sql`ALTER TABLE ${sqlIdentifier(table.name)} DELETE WHERE ${where(windows)}`.text });
    if (held.length > 0) await this.deletionsDone(table, deadline);
    const columns = sqlJoin(table.columns.map(sqlIdentifier), ', ');
    const hours = inHours('observed_at', inDoubt);
    for (const windows of inStatements(differing)) {
      for (const view of table.views) {
        await this.client.command({ query: sql`INSERT INTO ${sqlIdentifier(table.name)} (${columns}) SELECT ${columns} FROM (${viewSelectOver(view.createQuery, hours)}) WHERE ${where(windows)}`.text });
      }
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until none of the queries running now whose `query_id` starts with `prefix`
 * (but those in `except`) still runs: a snapshot, so queries started meanwhile (another
 * instance's) cannot keep it waiting. Past `deadline` it throws RepairWaitExceeded.
 * system.processes shows a user at least its own queries (18.16 and current releases
 * alike), and the aggregator's inserts are its own.
 */
export async function waitForServerQueries(client: ClickHouseClient, prefix: string, except: ReadonlySet<string>, deadline: number): Promise<void> {
  const running = await selectRows<{ query_id: string }>(client, sql`SELECT query_id FROM system.processes WHERE startsWith(query_id, ${prefix})`);
  const awaited = running.map((row) => row.query_id).filter((id) => !except.has(id));
  const started = Date.now();
  while (awaited.length > 0) {
    const still = await selectRows<{ query_id: string }>(client, sql`SELECT query_id FROM system.processes WHERE query_id IN ${awaited}`);
    if (still.length === 0) return;
    if (Date.now() >= deadline) {
      throw new RepairWaitExceeded(`${still.length} insert(s) of the aggregator sent earlier still run on the server after ${((Date.now() - started) / 1000).toFixed(1)} s (${still.map((row) => row.query_id).slice(0, 3).join(', ')}); what is stored is read once they are done`);
    }
    await sleep(pollMs);
  }
}

/**
 * Rows of the (site, hour) pairs in doubt, by their time column; the range first, so
 * the server reads only the partitions (days, months) and key ranges that can match.
 */
function inHours(time: 'observed_at' | 'window_start', inDoubt: readonly [string, number][]): SqlFragment {
  const column = sqlIdentifier(time);
  const from = Math.min(...inDoubt.map(([, hour]) => hour));
  const to = Math.max(...inDoubt.map(([, hour]) => hour)) + 3600;
  return sql`${column} >= toDateTime(${from}) AND ${column} < toDateTime(${to}) AND (site, toUInt32(toStartOfHour(${column}))) IN (${tupleList(inDoubt)})`;
}

/** `(a, 1), (b, 2)`: tuples for IN. */
function tupleList(tuples: readonly (readonly (string | number)[])[]): SqlFragment {
  return sqlJoin(
    tuples.map((tuple) => sql`${tuple}`),
    ', ',
  );
}
