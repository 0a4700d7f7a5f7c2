import { journeyColumns, measuresOf, selectRows, sql, truckEventOfRow, type TruckRow, sqlIdentifier, windowsQuery, type ClickHouseClient, type FamilyName, type LaneEvent, type ThroughputMeasures, type TruckEvent, type WindowDimensions } from '@tower/shared';
import { rawTables, type RawRow } from './domain/rows.ts';

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

/** ClickHouse behind the few calls the aggregator makes; all SQL through `sql`. */
export class EventStore {
  constructor(private readonly client: ClickHouseClient) {}

  async insert(family: FamilyName, rows: readonly RawRow[]): Promise<void> {
    await this.client.insert({ table: rawTables[family], values: rows as RawRow[], format: 'JSONEachRow' });
  }

  async loadPartition(family: FamilyName, topic: string, partition: number, recentCount: number): Promise<StoredPartition> {
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
