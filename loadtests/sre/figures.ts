/**
 * The figures a run is judged on, from Artillery's JSON outputs (one per part of the
 * scenario) and the correctness checks, and the SLO verdicts (slos.json: figure →
 * highest value that passes).
 */
import { customMetric } from './run-context.ts';
import type { StoredEvents } from './correctness.ts';

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

/** One Artillery JSON output: the aggregate and the periods (every 10 s). */
export interface ArtilleryReport {
  aggregate: ArtilleryPeriod;
  intermediate: ArtilleryPeriod[];
}
export interface ArtilleryPeriod {
  period?: number | string;
  firstMetricAt?: number;
  counters: Record<string, number>;
  summaries: Record<string, Summary>;
}

export type Figures = Record<string, number | null>;

const endpoint = (name: string) => `plugins.metrics-by-endpoint.response_time.${name}`;

/** Counters summed over the parts; a summary is the worst part's (each name is measured in one part). */
export function combine(periods: readonly ArtilleryPeriod[]): ArtilleryPeriod {
  const counters: Record<string, number> = {};
  const summaries: Record<string, Summary> = {};
  for (const period of periods) {
    for (const [name, value] of Object.entries(period.counters)) counters[name] = (counters[name] ?? 0) + value;
    for (const [name, summary] of Object.entries(period.summaries)) if (!summaries[name] || summaries[name].p99 < summary.p99) summaries[name] = summary;
  }
  return { counters, summaries };
}

function worst(summaries: Record<string, Summary>, names: readonly string[], stat: 'p95' | 'p99'): number | null {
  const values = names.map((n) => summaries[n]?.[stat]).filter((v): v is number => typeof v === 'number');
  return values.length > 0 ? Math.max(...values) : null;
}

export interface Correctness {
  accepted: number;
  /** The run's events stored (rows, and distinct event ids among them); null when not read. */
  stored: StoredEvents | null;
  overbookedWindows: number | null;
  /** The places of the rushed window (slot-rush), to judge the holds answered 201. */
  places: number | null;
}

export function figuresOf(aggregate: ArtilleryPeriod, correctness: Correctness): Figures {
  const c = aggregate.counters;
  const s = aggregate.summaries;
  const requests = c['http.requests'] ?? 0;
  const responses = c['http.responses'] ?? 0;
  const ok = Object.entries(c).filter(([name]) => /^http\.codes\.2\d\d$/.test(name)).reduce((sum, [, v]) => sum + v, 0);
  const errors = Object.entries(c).filter(([name]) => name.startsWith('errors.')).reduce((sum, [, v]) => sum + v, 0);
  const serverErrors = Object.entries(c).filter(([name]) => /^http\.codes\.5\d\d$/.test(name)).reduce((sum, [, v]) => sum + v, 0);
  const won = c['plugins.metrics-by-endpoint.booking-rush.codes.201'] ?? 0;
  const history = Object.keys(s).filter((n) => n.startsWith(endpoint('history-')));
  const booking = Object.keys(s).filter((n) => n.startsWith(endpoint('booking-')));
  return {
    'http.requests': requests,
    // Over answers and failures (not requests: a period's requests still in flight have neither yet).
    'http.error_rate_percent': responses + errors > 0 ? ((responses - ok + errors) / (responses + errors)) * 100 : null,
    'http.server_error_rate_percent': responses + errors > 0 ? ((serverErrors + errors) / (responses + errors)) * 100 : null,
    'http.refused_409': c['http.codes.409'] ?? 0,
    'http.rate_limited_429': c['http.codes.429'] ?? 0,
    'vusers.created': c['vusers.created'] ?? 0,
    'vusers.failed': c['vusers.failed'] ?? 0,
    'vusers.skipped': c['vusers.skipped'] ?? 0,
    'ingest.p50_ms': s[endpoint('ingest')]?.p50 ?? null,
    'ingest.p99_ms': worst(s, [endpoint('ingest')], 'p99'),
    'history.p99_ms': worst(s, history, 'p99'),
    'booking.p99_ms': worst(s, booking, 'p99'),
    'live.snapshot_p99_ms': worst(s, [customMetric.snapshotMs], 'p99'),
    'live.freshness_p95_ms': worst(s, [customMetric.freshnessMs], 'p95'),
    'live.ticks': c[customMetric.ticks] ?? 0,
    'events.sent': c[customMetric.eventsSent] ?? 0,
    'events.accepted': correctness.accepted,
    'events.stored': correctness.stored?.distinct ?? null,
    'bookings.confirmed': c[customMetric.bookingsConfirmed] ?? 0,
    'bookings.holds_won': won,
    'correctness.events_rejected': c[customMetric.eventsRejected] ?? 0,
    // Distinct events: a duplicate must not hide a missing one.
    'correctness.events_missing': correctness.stored === null ? null : Math.max(0, correctness.accepted - correctness.stored.distinct),
    'correctness.events_duplicated': correctness.stored === null ? null : correctness.stored.rows - correctness.stored.distinct,
    'correctness.overbooked_windows': correctness.overbookedWindows,
    'correctness.holds_over_places': correctness.places === null ? null : Math.max(0, won - correctness.places),
  };
}

export interface Verdict {
  figure: string;
  max: number;
  value: number | null;
  /** A figure that could not be measured (no ClickHouse login, nothing seen) fails: an SLO is never passed by default. */
  pass: boolean;
}

export function verdicts(figures: Figures, slos: Record<string, number>): Verdict[] {
  return Object.entries(slos).map(([figure, max]) => {
    const value = figures[figure] ?? null;
    return { figure, max, value, pass: value !== null && value <= max };
  });
}

/** Where a ramp broke an SLO: the first 10-second period over a bound, and the devices' rate then. */
export interface BreakPoint {
  /** Seconds since the first period. */
  atSeconds: number;
  eventsPerSecond: number;
  figure: string;
  value: number;
  max: number;
}

const periodSeconds = 10;

/** Periods in a row over a bound that make a break: one period alone may be a hiccup (a rebalance, the JIT warming up in the first seconds). */
const breakPeriods = 2;

/**
 * Judges every period (the parts' periods of the same time merged) on the SLOs that a
 * period can show (not correctness, which is the whole run's); the break is the first
 * of `breakPeriods` periods in a row each over a bound (the first period's figure over
 * its bound is named). Also the highest rate of events any period sent.
 */
export function findBreak(periodsByPart: Readonly<Record<string, readonly ArtilleryPeriod[]>>, slos: Readonly<Record<string, number>>): { broke?: BreakPoint; peakEventsPerSecond: number } {
  const byTime = new Map<number, ArtilleryPeriod[]>();
  for (const periods of Object.values(periodsByPart)) for (const p of periods) byTime.set(Number(p.period), [...(byTime.get(Number(p.period)) ?? []), p]);
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const judged = times.map((time) => {
    const period = combine(byTime.get(time) ?? []);
    const figures = figuresOf(period, { accepted: 0, stored: null, overbookedWindows: null, places: null });
    const over = Object.entries(slos).find(([figure, max]) => !figure.startsWith('correctness.') && (figures[figure] ?? -Infinity) > max);
    return { time, eventsPerSecond: (period.counters[customMetric.eventsSent] ?? 0) / periodSeconds, over: over && { figure: over[0], max: over[1], value: figures[over[0]] ?? 0 } };
  });
  const peakEventsPerSecond = Math.max(0, ...judged.map((p) => p.eventsPerSecond));
  const first = judged.findIndex((_, i) => judged.slice(i, i + breakPeriods).length === breakPeriods && judged.slice(i, i + breakPeriods).every((p) => p.over));
  const start = judged[first];
  if (!start?.over) return { peakEventsPerSecond };
  return { broke: { atSeconds: (start.time - (times[0] ?? start.time)) / 1000, eventsPerSecond: start.eventsPerSecond, ...start.over }, peakEventsPerSecond };
}

/** How long after its end a period is judged even if a part reported none (a part with nothing to measure then, like the firms' few bookings). */
export const periodGraceMs = 15_000;

/**
 * Whether a ramp still running should stop (pure: the periods reported so far and the
 * time): the break among the periods that are complete. A period is complete once each
 * part still running has reported it or a later one, or `periodGraceMs` after its end
 * (parts report their periods seconds apart; one with nothing to measure reports
 * none), so a break is not called on half a period's answers.
 */
export function breakSoFar(periodsByPart: Readonly<Record<string, readonly ArtilleryPeriod[]>>, finished: ReadonlySet<string>, slos: Readonly<Record<string, number>>, now: number): BreakPoint | undefined {
  const latest = Object.entries(periodsByPart)
    .filter(([part]) => !finished.has(part))
    .map(([, periods]) => Math.max(-Infinity, ...periods.map((p) => Number(p.period))));
  const everyPartHas = Math.min(Infinity, ...latest);
  const complete = (p: ArtilleryPeriod) => Number(p.period) <= everyPartHas || Number(p.period) + periodSeconds * 1000 + periodGraceMs <= now;
  return findBreak(Object.fromEntries(Object.entries(periodsByPart).map(([part, periods]) => [part, periods.filter(complete)])), slos).broke;
}
