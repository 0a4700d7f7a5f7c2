import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Coalescer, classifyError, journeyColumns, measuresOf, selectRows, sql, truckEventOfRow, type TruckRow, sqlIdentifier, windowsQuery, type ClickHouseClient, type FamilyName, type LaneEvent, type ThroughputMeasures, type TruckEvent, type WindowDimensions } from '@tower/shared';
import { partitionDayOf, rawColumns, rawTables, type RowSource } from './domain/rows.ts';
import { EncodedRows, NativeEncoder, type EncodedColumn, type TypedColumn } from './native-block.ts';
import { AggregateRepair, waitForServerQueries, type RebuiltWindow, type RepairSettings } from './repair.ts';

/** What the aggregator needs to resume one partition exactly where the stored rows end. */
export interface StoredPartition {
  /** Highest Kafka offset stored for the partition; -1 when none. */
  maxOffset: bigint;
  /** Event ids of the most recent rows, oldest first. */
  recentIds: string[];
  /** The partition's truck or lane events of the last day, in offset order, to rebuild the trackers. */
  replay: (TruckEvent | LaneEvent)[];
}

export interface StoredWindow extends WindowDimensions {
  measures: ThroughputMeasures;
}

const replayHorizonMs = 24 * 3600_000;

/**
 * Most rows in one merged insert: far below ClickHouse's `min_insert_block_size_rows`
 * (1,048,576), so the server squashes an insert's Native blocks into one, one part per
 * partition: all or nothing.
 */
const maxRowsPerInsert = 200_000;

/**
 * Rows encoded for column types the server no longer holds (an ALTER since they were
 * encoded, even to a type of the same width): the server refused their Native blocks,
 * which name the old types. Retriable: the batch is encoded again for the types the
 * server holds now, and a value they cannot hold is refused then.
 */
export class ColumnTypesChanged extends Error {
  readonly retriable = true;
  constructor(table: string, encodedFor: readonly TypedColumn[], onServer: readonly TypedColumn[]) {
    const changed = encodedFor.flatMap((c, i) => (c.type === onServer[i]?.type ? [] : [`${c.name} ${c.type} → ${onServer[i]?.type ?? 'gone'}`]));
    super(`the column types of ${table} changed on the server since its rows were encoded (${changed.join(', ')}): not stored, encoded again on retry`);
  }
}

/**
 * The batch waiting on a repair is not at fault: retried with backoff like ClickHouse
 * away (`retriable`), never dead-lettered, whatever the repair's error was.
 */
export class RepairFailed extends Error {
  readonly retriable = true;
  constructor(cause: unknown) {
    super(`repairing the aggregates failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Where the store's inserts are told apart on the server (`query_id` prefix) and how long
 * a repair or a partition's load waits for them there. The aggregator passes its consumer
 * group as the prefix and half the group's session timeout as the budget.
 */
export type StoreSettings = RepairSettings;

/** For stores that only seed rows (tests, drills): no group, and a budget under the shortest session timeout (6 s). */
export const defaultStoreSettings: StoreSettings = { insertQueryIdPrefix: 'tower-aggregator:insert:', waitBudgetMs: 3000 };

/** ClickHouse behind the few calls the aggregator makes; all SQL through `sql`. */
export class EventStore {
  private readonly inserters = new Map<string, Coalescer<EncodedRows<RowSource>>>();
  /** Each raw table's encoder, for the column types the server held when it was made; made again after a failed insert. */
  private readonly encoders = new Map<FamilyName, Promise<NativeEncoder<RowSource>>>();
  /** The settings every insert carries: on a server that would convert a Native column of another type, not to. */
  private insertSettings?: Promise<Record<string, 0>>;

  private readonly repair: AggregateRepair;
  /** Inserts sent and not yet answered, by query id: a repair waits for them, and holds new ones. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private repairing?: Promise<void>;

  constructor(
    private readonly client: ClickHouseClient,
    onRebuilt?: (table: string, windows: readonly RebuiltWindow[]) => void,
    private readonly settings: StoreSettings = defaultStoreSettings,
  ) {
    this.repair = new AggregateRepair(client, settings, onRebuilt);
  }

  /**
   * Stores rows of one UTC day (the raw tables' partition). Inserts into the same table
   * and day that arrive while two are in flight are merged into the next INSERT: the
   * batches of many Kafka partitions become one part, not one each, and none waits
   * behind the others' inserts. Resolves (or rejects) with the INSERT that carried the
   * rows, so a caller commits only what is stored. Rows encoded for column types the
   * server no longer holds are refused by it (ColumnTypesChanged).
   */
  async insert(family: FamilyName, rows: EncodedRows<RowSource>): Promise<void> {
    const first = rows.observedMs[0];
    if (first === undefined) return;
    const key = `${family}|${partitionDayOf(first)}`;
    let inserter = this.inserters.get(key);
    if (!inserter) {
      inserter = new Coalescer((runs) => this.write(family, runs), {
        maxInFlight: 2,
        maxWeight: maxRowsPerInsert,
        weightOf: (run) => run.count,
        // A row ClickHouse refuses fails the merged INSERT: each partition's rows go again alone, so only the poison's partition sees the refusal.
        // So do rows encoded for old column types: the runs encoded for the new ones are stored.
        splitOn: (error) => error instanceof ColumnTypesChanged || classifyError(error) === 'permanent',
      });
      this.inserters.set(key, inserter);
    }
    await inserter.submit(rows);
  }

  /** An empty run of a raw table's rows, encoded for the table's column types on the server, to fill and pass to `insert`. */
  async rows(family: FamilyName): Promise<EncodedRows<RowSource>> {
    return new EncodedRows(await this.encoderOf(family));
  }

  /**
   * A value was refused against the column types read from the server: read them again.
   * True when they changed (an operator altered the column to take it): the encoders are
   * rebuilt, and the refused rows should be encoded again.
   */
  async columnTypesChanged(family: FamilyName): Promise<boolean> {
    const before = (await this.encoderOf(family)).structure;
    this.encoders.delete(family);
    return (await this.encoderOf(family)).structure !== before;
  }

  private encoderOf(family: FamilyName): Promise<NativeEncoder<RowSource>> {
    let encoder = this.encoders.get(family);
    if (!encoder) {
      encoder = this.serverColumns(family).then((columns) => new NativeEncoder(rawTables[family], columns));
      encoder.catch(() => this.encoders.delete(family));
      this.encoders.set(family, encoder);
    }
    return encoder;
  }

  /** Each declared column (domain/rows.ts) with its type as the server holds it now: what the encoder writes. One query. */
  private async serverColumns(family: FamilyName): Promise<EncodedColumn<RowSource>[]> {
    const table = rawTables[family];
    const found = await selectRows<{ name: string; type: string }>(this.client, sql`SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ${table}`);
    const onServer = new Map(found.map((c) => [c.name, c.type]));
    return rawColumns[family].map((column) => {
      const type = onServer.get(column.name);
      if (!type) throw new Error(`${table} has no column ${column.name} on the server (migrations not applied?)`);
      return { ...column, type };
    });
  }

  /**
   * After a failed insert: ColumnTypesChanged if the runs were encoded for column types the
   * server no longer holds (it refused their blocks), with the encoder made for the new
   * ones so the retry is encoded for them; undefined when they were not (or the types
   * cannot be read now: the insert's own error says more).
   */
  private async changedColumnTypes(family: FamilyName, runs: readonly EncodedRows<RowSource>[]): Promise<ColumnTypesChanged | undefined> {
    const columns = await this.serverColumns(family).catch(() => undefined);
    if (!columns) return undefined;
    const encoder = new NativeEncoder(rawTables[family], columns);
    this.encoders.set(family, Promise.resolve(encoder));
    const stale = runs.find((run) => run.encoder.structure !== encoder.structure);
    return stale ? new ColumnTypesChanged(rawTables[family], stale.encoder.columns, columns) : undefined;
  }

  /**
   * `input_format_native_allow_types_conversion = 0` where the server has the setting
   * (current versions; on by default, it would store a value of the old type cast to the
   * new one, wrapped if it does not fit); 18.16 has not, and refuses another type as is.
   */
  private settingsForInserts(): Promise<Record<string, 0>> {
    const settings = (this.insertSettings ??= selectRows<{ n: string }>(this.client, sql`SELECT count() AS n FROM system.settings WHERE name = 'input_format_native_allow_types_conversion'`).then(
      ([found]): Record<string, 0> => (Number(found?.n) > 0 ? { input_format_native_allow_types_conversion: 0 } : {}),
    ));
    settings.catch(() => (this.insertSettings = undefined));
    return settings;
  }

  /**
   * Repairs the aggregates where failed inserts left them in doubt, with this store's
   * inserts held (those in flight answered first, new ones waiting): called before each
   * insert, and by the pipeline before each batch, as a batch whose rows all turn out
   * stored after a failure inserts nothing. Throws while ClickHouse fails; the doubt stays.
   */
  async repairPending(): Promise<void> {
    while (this.repair.pending) {
      this.repairing ??= (async () => {
        await Promise.allSettled([...this.inFlight.values()]);
        await this.repair.run();
      })()
        .catch((error: unknown) => {
          throw new RepairFailed(error);
        })
        .finally(() => (this.repairing = undefined));
      await this.repairing;
    }
  }

  /**
   * One INSERT, after the aggregates are repaired where a failed insert left them in
   * doubt (AggregateRepair). A failed INSERT's rows may be stored without their views'
   * rows: their windows are in doubt until the next insert's repair. Rows encoded for
   * column types the server no longer holds are refused by it (Native names the types)
   * and fail as ColumnTypesChanged.
   */
  private async write(family: FamilyName, runs: readonly EncodedRows<RowSource>[]): Promise<void> {
    const clickhouseSettings = await this.settingsForInserts();
    // The repair checked again after the last await, in the same turn as the insert is registered: a repair started meanwhile waits for it.
    do await this.repairPending();
    while (this.repair.pending);
    // Named, so that a later repair or load finds it on the server if its answer never comes (system.processes).
    const queryId = `${this.settings.insertQueryIdPrefix}${randomUUID()}`;
    const insert = this.client.exec({ query: runs[0]!.encoder.insertQuery, values: Readable.from(runs.map((run) => run.body)), query_id: queryId, clickhouse_settings: clickhouseSettings }).then(({ stream }) => finished(stream.resume()));
    this.inFlight.set(queryId, insert);
    try {
      await insert;
    } catch (error) {
      this.repair.noteFailed(runs.flatMap((run) => run.sites.map((site, i) => ({ site, observed_ms: run.observedMs[i]! }))));
      // Refused for column types the server no longer holds (an ALTER): the retry is encoded from the server's types.
      throw (await this.changedColumnTypes(family, runs)) ?? error;
    } finally {
      this.inFlight.delete(queryId);
    }
  }

  /**
   * What the stored rows say about one partition. First waits (within the budget) until
   * no insert of the aggregator's that runs on the server now, but this store's own, is
   * still running: a process killed mid-insert leaves its insert to the server, and rows
   * landing after the load would be sent again (their offsets look unstored).
   */
  async loadPartition(family: FamilyName, topic: string, partition: number, recentCount: number): Promise<StoredPartition> {
    await waitForServerQueries(this.client, this.settings.insertQueryIdPrefix, new Set(this.inFlight.keys()), Date.now() + this.settings.waitBudgetMs);
    const table = sqlIdentifier(rawTables[family]);
    const where = sql`kafka_topic = ${topic} AND kafka_partition = ${partition}`;
    const [max] = await selectRows<{ max_offset: string; rows: string }>(this.client, sql`SELECT max(kafka_offset) AS max_offset, count() AS rows FROM ${table} WHERE ${where}`);
    if (!max || Number(max.rows) === 0) return { maxOffset: -1n, recentIds: [], replay: [] };
    const recent = await selectRows<{ event_id: string }>(this.client, sql`SELECT event_id FROM ${table} WHERE ${where} ORDER BY kafka_offset DESC LIMIT ${recentCount}`);
    let replay: (TruckEvent | LaneEvent)[] = [];
    const since = sql`observed_ms >= (SELECT max(observed_ms) FROM ${table} WHERE ${where}) - ${replayHorizonMs}`;
    if (family === 'truck') {
      const rows = await selectRows<TruckRow>(this.client, sql`SELECT ${journeyColumns} FROM ${table} WHERE ${where} AND ${since} ORDER BY kafka_offset`);
      replay = rows.map(truckEventOfRow);
    } else if (family === 'lane') {
      const rows = await selectRows<Record<string, string>>(this.client, sql`SELECT type, site, lane, observed_ms FROM ${table} WHERE ${where} AND ${since} ORDER BY kafka_offset`);
      replay = rows.map((r) => ({ type: r['type'], site: r['site'], lane: r['lane'], observedAt: Number(r['observed_ms']) }) as LaneEvent);
    }
    return { maxOffset: BigInt(max.max_offset), recentIds: recent.map((r) => r.event_id).reverse(), replay };
  }

  async windows(windows: readonly WindowDimensions[]): Promise<StoredWindow[]> {
    if (windows.length === 0) return [];
    const rows = await selectRows<Record<string, string | number | null | (string | number)[]>>(this.client, windowsQuery(windows));
    return rows.map((row) => ({
      site: String(row['site']),
      lane: String(row['lane']),
      direction: String(row['direction']),
      laneKind: String(row['lane_kind']),
      windowStart: Number(row['window_start_s']),
      measures: measuresOf(row),
    }));
  }

}
