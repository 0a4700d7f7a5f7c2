import { measuresOf, sql, sqlIdentifier, windowsQuery, type ClickHouseClient, type FamilyName, type LaneEvent, type ThroughputMeasures, type TruckEvent, type WindowDimensions } from '@tower/shared';
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
    const [max] = await this.rows<{ max_offset: string; rows: string }>(sql`SELECT max(kafka_offset) AS max_offset, count() AS rows FROM ${table} WHERE ${where}`);
    if (!max || Number(max.rows) === 0) return { maxOffset: -1n, recentIds: [], replay: [] };
    const recent = await this.rows<{ event_id: string }>(sql`SELECT event_id FROM ${table} WHERE ${where} ORDER BY kafka_offset DESC LIMIT ${recentCount}`);
    let replay: (TruckEvent | LaneEvent)[] = [];
    const since = sql`observed_ms >= (SELECT max(observed_ms) FROM ${table} WHERE ${where}) - ${replayHorizonMs}`;
    if (family === 'truck') {
      const rows = await this.rows<Record<string, string | string[]>>(
        sql`SELECT type, site, plate, plate_country, direction, lane, observed_ms, cargo_class, containers, gross_kg, hold_reason FROM ${table} WHERE ${where} AND ${since} ORDER BY kafka_offset`,
      );
      replay = rows.map((r) => truckFromRow(r));
    } else if (family === 'lane') {
      const rows = await this.rows<Record<string, string>>(sql`SELECT type, site, lane, observed_ms FROM ${table} WHERE ${where} AND ${since} ORDER BY kafka_offset`);
      replay = rows.map((r) => ({ type: r['type'], site: r['site'], lane: r['lane'], observedAt: Number(r['observed_ms']) }) as LaneEvent);
    }
    return { maxOffset: BigInt(max.max_offset), recentIds: recent.map((r) => r.event_id).reverse(), replay };
  }

  async windows(windows: readonly WindowDimensions[]): Promise<StoredWindow[]> {
    if (windows.length === 0) return [];
    const rows = await this.rows<Record<string, string | number | null | (string | number)[]>>(windowsQuery(windows));
    return rows.map((row) => ({
      site: String(row['site']),
      lane: String(row['lane']),
      direction: String(row['direction']),
      laneKind: String(row['lane_kind']),
      windowStart: Number(row['window_start_s']),
      measures: measuresOf(row),
    }));
  }

  private async rows<T>(query: { text: string }): Promise<T[]> {
    const result = await this.client.query({ query: query.text, format: 'JSONEachRow' });
    return result.json<T>();
  }
}

/** A stored truck row as the event the journey tracker needs (only the fields it reads). */
function truckFromRow(row: Record<string, string | string[]>): TruckEvent {
  const text = (name: string) => String(row[name] ?? '');
  const base = { site: text('site'), plate: text('plate'), plateCountry: text('plate_country'), direction: text('direction'), observedAt: Number(row['observed_ms']) };
  return {
    ...base,
    type: text('type'),
    ...(text('lane') ? { lane: text('lane') } : {}),
    ...(text('cargo_class') ? { cargoClass: text('cargo_class') } : {}),
    containers: Array.isArray(row['containers']) ? row['containers'] : [],
    grossKg: Number(row['gross_kg']),
    holdReason: text('hold_reason'),
  } as unknown as TruckEvent;
}
