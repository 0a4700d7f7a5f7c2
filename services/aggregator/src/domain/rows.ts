import { clickHouseDateTime, noJourneyFigures, type ConsumedEvent, type ContainerEvent, type FamilyName, type JourneyFigures, type LaneEvent, type SiteCatalog, type TowerEvent, type TruckEvent } from '@tower/shared';

/** The raw table of each family (see infra/clickhouse/migrations/0002_events_and_throughput.sql). */
export const rawTables: Readonly<Record<FamilyName, string>> = { truck: 'truck_events', container: 'container_events', lane: 'lane_events' };

/** What the trackers derived for one event (its journey's figures, its lane's open time); stored on its row. */
export interface Derived extends JourneyFigures {
  openMs: number;
}

/** The derived figures of an event that completes nothing (copy it before changing it). */
export const noDerived: Readonly<Derived> = Object.freeze({ ...noJourneyFigures, openMs: 0 });

export type RawRow = Record<string, string | number | string[]>;

const teuBySize: Readonly<Record<number, number>> = { 20: 1, 40: 2, 45: 2.25 };

/** The raw tables' partition (UTC day of observation): one insert never spans two. */
export function partitionDayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/** The window dimensions of an event: its lane's kind, and the direction of the truck or lane. */
export interface Dimensions {
  lane: string;
  laneKind: string;
  direction: string;
}

export function dimensionsOf(event: TowerEvent, catalog: SiteCatalog): Dimensions {
  const lane = 'lane' in event && event.lane ? event.lane : '';
  const found = lane ? catalog.lane(lane)?.lane : undefined;
  const direction = 'direction' in event ? event.direction : (found?.direction ?? '');
  return { lane, laneKind: found?.kind ?? '', direction };
}

/** The ClickHouse types of the raw tables' columns (infra/clickhouse/migrations), as declared here. */
export type ColumnType = 'String' | 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Float32' | 'Float64' | 'DateTime' | 'Array(String)';

/** What a column's value is read from: the event as consumed, its window dimensions, its derived figures. */
export interface RowSource {
  consumed: ConsumedEvent;
  dimensions: Dimensions;
  derived: Derived;
}

/** A DateTime is given in ms (stored in seconds); a UInt64 as a number or, past 2^53, a bigint. */
export type ColumnValue = string | number | bigint | readonly string[];

export interface RawColumn {
  name: string;
  type: ColumnType;
  value(source: RowSource): ColumnValue;
}

const column = (name: string, type: ColumnType, value: (source: RowSource) => ColumnValue): RawColumn => ({ name, type, value });
const truckColumn = (name: string, type: ColumnType, value: (truck: TruckEvent, source: RowSource) => ColumnValue) => column(name, type, (source) => value(source.consumed.event as TruckEvent, source));
const containerColumn = (name: string, type: ColumnType, value: (container: ContainerEvent) => ColumnValue) => column(name, type, (source) => value(source.consumed.event as ContainerEvent));
const laneColumn = (name: string, type: ColumnType, value: (lane: LaneEvent, source: RowSource) => ColumnValue) => column(name, type, (source) => value(source.consumed.event as LaneEvent, source));

const commonColumns: readonly RawColumn[] = [
  column('event_id', 'String', (s) => s.consumed.event.eventId),
  column('type', 'String', (s) => s.consumed.event.type),
  column('site', 'String', (s) => s.consumed.event.site),
  column('lane', 'String', (s) => s.dimensions.lane),
  column('lane_kind', 'String', (s) => s.dimensions.laneKind),
  column('direction', 'String', (s) => s.dimensions.direction),
  column('observed_at', 'DateTime', (s) => s.consumed.event.observedAt),
  column('observed_ms', 'UInt64', (s) => s.consumed.event.observedAt),
  column('ingested_ms', 'UInt64', (s) => s.consumed.ingestedAt),
  column('source', 'String', (s) => s.consumed.event.source),
  column('schema_version', 'UInt16', (s) => s.consumed.schemaVersion),
  column('kafka_topic', 'String', (s) => s.consumed.topic),
  column('kafka_partition', 'UInt32', (s) => s.consumed.partition),
  column('kafka_offset', 'UInt64', (s) => s.consumed.offset),
];

/**
 * Each raw table's columns, declared once: the Native encoders (../native-block.ts) and
 * the JSON rows (`rawRowOf`) are both built from them, and an integration test holds them
 * to the migrations' types.
 */
export const rawColumns: Readonly<Record<FamilyName, readonly RawColumn[]>> = {
  truck: [
    ...commonColumns,
    truckColumn('plate', 'String', (t) => t.plate),
    truckColumn('plate_country', 'String', (t) => t.plateCountry),
    truckColumn('cargo_class', 'String', (t) => t.cargoClass ?? ''),
    truckColumn('trailer', 'String', (t) => t.trailer ?? ''),
    truckColumn('containers', 'Array(String)', (t) => t.containers ?? []),
    truckColumn('gross_kg', 'UInt32', (t) => (t.type === 'truck.weighed' ? t.grossKg : 0)),
    truckColumn('declared_gross_kg', 'UInt32', (t) => (t.type === 'truck.gate-in' ? (t.declaredGrossKg ?? 0) : 0)),
    truckColumn('scan_result', 'String', (t) => (t.type === 'truck.scanned' ? t.scanResult : '')),
    truckColumn('hold_reason', 'String', (t) => (t.type === 'truck.customs-held' ? t.holdReason : '')),
    truckColumn('declaration_id', 'String', (t) => (t.type === 'truck.predeclaration-matched' ? t.declarationId : '')),
    truckColumn('confidence', 'Float32', (t) => (t.type === 'truck.plate-read' ? t.confidence : 0)),
    column('clearance_ms', 'UInt64', (s) => s.derived.clearanceMs),
    column('turnaround_ms', 'UInt64', (s) => s.derived.turnaroundMs),
    column('crossed_kg', 'UInt32', (s) => s.derived.crossedKg),
    column('crossed_weight', 'String', (s) => s.derived.crossedWeight),
  ],
  container: [
    ...commonColumns,
    containerColumn('container_number', 'String', (c) => c.containerNumber),
    containerColumn('size_ft', 'UInt8', (c) => c.sizeFt),
    containerColumn('teu', 'Float64', (c) => teuBySize[c.sizeFt] ?? 0),
    containerColumn('fullness', 'String', (c) => c.fullness),
    containerColumn('reefer', 'UInt8', (c) => (c.reefer ? 1 : 0)),
    containerColumn('vessel', 'String', (c) => ('vessel' in c ? c.vessel : '')),
    containerColumn('berth', 'String', (c) => ('berth' in c ? c.berth : '')),
    containerColumn('crane', 'String', (c) => ('crane' in c ? c.crane : '')),
    containerColumn('from_block', 'String', (c) => (c.type === 'container.yard-moved' ? (c.fromBlock ?? '') : '')),
    containerColumn('to_block', 'String', (c) => (c.type === 'container.yard-moved' ? c.toBlock : '')),
    containerColumn('customs_status', 'String', (c) => (c.type === 'container.customs-status' ? c.customsStatus : '')),
  ],
  lane: [
    ...commonColumns,
    laneColumn('queue_length', 'UInt32', (l) => ('queueLength' in l ? (l.queueLength ?? 0) : 0)),
    laneColumn('has_queue_length', 'UInt8', (l) => ('queueLength' in l && l.queueLength !== undefined ? 1 : 0)),
    laneColumn('fault_code', 'String', (l) => (l.type === 'lane.fault' ? l.faultCode : '')),
    laneColumn('detail', 'String', (l) => (l.type === 'lane.fault' ? (l.detail ?? '') : '')),
    laneColumn('igv_id', 'String', (l) => (l.type === 'lane.igv-telemetry' ? l.igvId : '')),
    laneColumn('igv_state', 'String', (l) => (l.type === 'lane.igv-telemetry' ? l.igvState : '')),
    laneColumn('progress', 'Float32', (l) => (l.type === 'lane.igv-telemetry' ? l.progress : 0)),
    laneColumn('battery_pct', 'Float32', (l) => (l.type === 'lane.igv-telemetry' ? l.batteryPct : 0)),
    laneColumn('document_kind', 'String', (l) => (l.type === 'lane.person-crossed' ? l.documentKind : '')),
    laneColumn('verification', 'String', (l) => (l.type === 'lane.person-crossed' ? l.verification : '')),
    column('open_ms', 'UInt64', (s) => s.derived.openMs),
  ],
};

/** A column's value as JSONEachRow takes it on every ClickHouse version (DateTime as text, UInt64 as a decimal string past 2^53). */
function jsonValue(type: ColumnType, value: ColumnValue): string | number | string[] {
  if (type === 'DateTime') return clickHouseDateTime(Number(value));
  if (typeof value === 'bigint') return value.toString();
  return value as string | number | string[];
}

/**
 * The raw-table row of an event as a JSON object, for JSONEachRow (tests, drills and the
 * benchmark's reference insert); the aggregator writes Native blocks from the same columns.
 */
export function rawRowOf(consumed: ConsumedEvent, dimensions: Dimensions, derived: Derived): RawRow {
  const source: RowSource = { consumed, dimensions, derived };
  const row: RawRow = {};
  for (const { name, type, value } of rawColumns[consumed.family]) row[name] = jsonValue(type, value(source));
  return row;
}
