import type { ThroughputMeasures } from '../domain/measures.ts';
import { sql, sqlJoin, type SqlFragment } from './sql.ts';

/**
 * Reading the throughput aggregates (throughput_1m, throughput_1h): the one place that
 * knows how their states merge, used by the aggregator's live ticks and by the history
 * API, so the wall and the history can never disagree on what a figure means.
 */
export const throughputSteps = ['1m', '5m', '1h', '1d'] as const;
export type ThroughputStep = (typeof throughputSteps)[number];

export const stepSeconds: Readonly<Record<ThroughputStep, number>> = { '1m': 60, '5m': 300, '1h': 3600, '1d': 86_400 };

/** Days are the operators' days: midnight in Vietnam (UTC+7, no daylight saving). */
export const vietnamOffsetSeconds = 7 * 3600;

const measuresSql = sql`
    sumMerge(events) AS events,
    sumMerge(trucks_crossed) AS trucks_crossed,
    sumMerge(containers_moved) AS containers_moved,
    sumMerge(teu_moved) AS teu_moved,
    sumMerge(gross_kg) AS gross_kg,
    sumMerge(trucks_unweighed) AS trucks_unweighed,
    sumMerge(customs_holds) AS customs_holds,
    maxIfMerge(queue_max) AS queue_max,
    avgIfMerge(queue_avg) AS queue_mean_raw,
    sumMerge(lane_open_ms) AS lane_open_ms,
    quantilesExactIfMerge(0.5, 0.95)(clearance_ms) AS clearance_q,
    quantilesExactIfMerge(0.5, 0.95)(turnaround_ms) AS turnaround_q`;

/** A row as ClickHouse's JSONEachRow gives it (64-bit integers come quoted). */
export type MeasureValue = string | number | null | undefined | (string | number)[];
export type MeasureRow = Record<string, MeasureValue>;

const num = (value: MeasureValue): number => (value === null || value === undefined ? 0 : Number(value));

/** p50 or p95 of a quantiles array; null when the window has no such journey (values are ≥ 1 ms). */
function quantile(values: MeasureValue, index: number): number | null {
  if (!Array.isArray(values) || !values.some((v) => Number(v) > 0)) return null;
  return Math.round(Number(values[index]));
}

/** Merged figures from one result row. */
export function measuresOf(row: MeasureRow): ThroughputMeasures {
  const queueMean = Number(row['queue_mean_raw']);
  const clearance = row['clearance_q'];
  const turnaround = row['turnaround_q'];
  return {
    events: num(row['events']),
    trucksCrossed: num(row['trucks_crossed']),
    containersMoved: num(row['containers_moved']),
    teuMoved: num(row['teu_moved']),
    tonnes: num(row['gross_kg']) / 1000,
    trucksUnweighed: num(row['trucks_unweighed']),
    customsHolds: num(row['customs_holds']),
    queueMax: num(row['queue_max']),
    queueMean: Number.isFinite(queueMean) ? Math.round(queueMean * 100) / 100 : null,
    laneOpenMinutes: Math.round((num(row['lane_open_ms']) / 60_000) * 100) / 100,
    clearanceP50Ms: quantile(clearance, 0),
    clearanceP95Ms: quantile(clearance, 1),
    turnaroundP50Ms: quantile(turnaround, 0),
    turnaroundP95Ms: quantile(turnaround, 1),
  };
}

/** Which windows to merge. */
export interface ThroughputRange {
  site?: string;
  lane?: string;
  laneKind?: string;
  /** Seconds since the epoch, inclusive. */
  fromSeconds: number;
  /** Seconds since the epoch, exclusive. */
  toSeconds: number;
}

export interface ThroughputFilter extends ThroughputRange {
  /** The range is aligned to the step by the caller. */
  step: ThroughputStep;
}

function rangeConditions(range: ThroughputRange): SqlFragment {
  const conditions = [sql`window_start >= toDateTime(${range.fromSeconds})`, sql`window_start < toDateTime(${range.toSeconds})`];
  if (range.site) conditions.push(sql`site = ${range.site}`);
  if (range.lane) conditions.push(sql`lane = ${range.lane}`);
  if (range.laneKind) conditions.push(sql`lane_kind = ${range.laneKind}`);
  return sqlJoin(conditions, ' AND ');
}

/** One row per bucket (`bucket` = its start, seconds), merged over the filter. */
export function throughputSeriesQuery(filter: ThroughputFilter): SqlFragment {
  const fineTable = filter.step === '1m' || filter.step === '5m';
  const table = fineTable ? sql`throughput_1m` : sql`throughput_1h`;
  const size = stepSeconds[filter.step];
  const offset = filter.step === '1d' ? vietnamOffsetSeconds : 0;
  const bucket = sql`intDiv(toUInt32(window_start) + ${offset}, ${size}) * ${size} - ${offset}`;
  return sql`SELECT ${bucket} AS bucket, ${measuresSql} FROM ${table} WHERE ${rangeConditions(filter)} GROUP BY bucket ORDER BY bucket`;
}

/**
 * The figures merged over a range of 1-minute windows: one row for the whole range, one
 * per site, or one per site and lane (quantiles do not add up, so each grouping is its
 * own query).
 */
export function throughputTotalQuery(range: ThroughputRange, grouping: 'total' | 'by-site' | 'by-lane'): SqlFragment {
  if (grouping === 'total') return sql`SELECT ${measuresSql} FROM throughput_1m WHERE ${rangeConditions(range)}`;
  if (grouping === 'by-site') return sql`SELECT site, ${measuresSql} FROM throughput_1m WHERE ${rangeConditions(range)} GROUP BY site`;
  return sql`SELECT site, lane, ${measuresSql} FROM throughput_1m WHERE ${rangeConditions(range)} GROUP BY site, lane`;
}

export interface WindowDimensions {
  site: string;
  lane: string;
  direction: string;
  laneKind: string;
  /** Seconds since the epoch. */
  windowStart: number;
}

/** The current figures of the given 1-minute windows (for live ticks). */
export function windowsQuery(windows: readonly WindowDimensions[]): SqlFragment {
  const sites = [...new Set(windows.map((w) => w.site))];
  const starts = [...new Set(windows.map((w) => w.windowStart))];
  return sql`SELECT site, lane, direction, lane_kind, toUInt32(window_start) AS window_start_s, ${measuresSql}
    FROM throughput_1m WHERE site IN ${sites} AND window_start IN (${sqlJoin(starts.map((start) => sql`toDateTime(${start})`), ', ')})
    GROUP BY site, lane, direction, lane_kind, window_start`;
}
