import type { SlotAvailability, ThroughputTick } from '@tower/shared';
import type { ClearanceFigure, ClearanceVerdict, KpisNow, LaneNow, LaneStatus, QueueLevel } from '../../src/domain/kpis.ts';
import { compareAlerts } from '../../src/domain/alert-order.ts';
import type { Alert } from '../../src/domain/alerts.ts';
import type { ThroughputSnapshotData } from '../../src/domain/protocol.ts';
import { tickSuccession } from '../../src/domain/provisional.ts';

const minuteMs = 60_000;
/** Minutes the chart shows. */
export const chartMinutes = 60;
/** The chart's provisional mark stays this long after the last provisional figure it drew, so it does not blink on every confirmation under load. */
export const provisionalMarkMs = 3_000;

/**
 * The last 60 minutes of throughput for the chart: the snapshot's stored buckets, raised
 * by the live windows as their ticks arrive. A minute's value is the larger of the two:
 * the board may lack windows ticked before the gateway started, and figures of a window
 * only grow. Bounded: nothing older than the chart's hour is kept. A provisional window
 * (figures estimated before the aggregator's insert) is drawn at once and replaced by its
 * confirmed tick, as the gateway's board does; while the chart draws one (and for
 * `provisionalMarkMs` after), `provisional` says so for the mark.
 */
export class ThroughputChartModel {
  private readonly stored = new Map<number, { trucks: number; containers: number }>();
  private readonly windows = new Map<string, ThroughputTick>();
  private provisionalDrawnAt = Number.NEGATIVE_INFINITY;

  reset(snapshot: ThroughputSnapshotData): void {
    this.stored.clear();
    this.windows.clear();
    for (const bucket of snapshot.history) this.stored.set(bucket.start, { trucks: bucket.trucksCrossed, containers: bucket.containersMoved });
    for (const tick of snapshot.windows) this.apply(tick);
  }

  apply(tick: ThroughputTick): void {
    const key = `${tick.site}|${tick.lane}|${tick.direction}|${tick.laneKind}|${tick.windowStart}`;
    if (tickSuccession(this.windows.get(key), tick) === 'replaces') this.windows.set(key, tick);
  }

  /** Does the chart (as of the last `series(now)`) show provisional figures, or did it less than `provisionalMarkMs` ago? */
  provisional(now: number): boolean {
    return now - this.provisionalDrawnAt < provisionalMarkMs;
  }

  /** Minute starts (seconds, as uPlot wants) and the two series, oldest first, ending with the minute `now` is in. */
  series(now: number): [number[], number[], number[]] {
    const last = Math.floor(now / minuteMs) * minuteMs;
    const first = last - (chartMinutes - 1) * minuteMs;
    this.prune(first);
    const live = new Map<number, { trucks: number; containers: number }>();
    for (const tick of this.windows.values()) {
      if (tick.provisional) this.provisionalDrawnAt = now;
      const sum = live.get(tick.windowStart) ?? { trucks: 0, containers: 0 };
      sum.trucks += tick.trucksCrossed;
      sum.containers += tick.containersMoved;
      live.set(tick.windowStart, sum);
    }
    const times: number[] = [];
    const trucks: number[] = [];
    const containers: number[] = [];
    for (let start = first; start <= last; start += minuteMs) {
      const stored = this.stored.get(start);
      const ticked = live.get(start);
      times.push(start / 1000);
      trucks.push(Math.max(stored?.trucks ?? 0, ticked?.trucks ?? 0));
      containers.push(Math.max(stored?.containers ?? 0, ticked?.containers ?? 0));
    }
    return [times, trucks, containers];
  }

  /** Entries held (for the bounded-memory test). */
  get size(): number {
    return this.stored.size + this.windows.size;
  }

  private prune(first: number): void {
    for (const start of this.stored.keys()) if (start < first) this.stored.delete(start);
    for (const [key, tick] of this.windows) if (tick.windowStart < first) this.windows.delete(key);
  }
}

/** One site's line in the zone view, summed from its lanes. */
export interface SiteSummary {
  site: string;
  lanesOpen: number;
  lanesTotal: number;
  trucksLastHour: number;
  /** Its biometric gates (lanes for people, also in `lanesTotal`) and the people through them in the last hour. */
  gatesForPeople: number;
  peopleLastHour: number;
  queueLength: number;
  /** The most serious lane status: fault, then congested, closed, open, unknown. */
  worst: LaneStatus;
  /** Lanes in each state. */
  counts: Readonly<Record<LaneStatus, number>>;
  /** A lane in the `worst` state, the one with the longest queue (the first in the catalog among equals); none without lanes. */
  worstLane: LaneNow | undefined;
}

/** A biometric gate: it counts people, never vehicles, and reports no queue. */
export const isGateForPeople = (lane: Pick<LaneNow, 'kind'>): boolean => lane.kind === 'biometric-gate';

const seriousness: Readonly<Record<LaneStatus, number>> = { fault: 4, congested: 3, closed: 2, open: 1, unknown: 0 };

/** The lane grid of the zone (the `lanes` channel), kept by `site/lane`. */
export class LaneGrid {
  private readonly lanes = new Map<string, LaneNow>();

  reset(lanes: readonly LaneNow[]): void {
    this.lanes.clear();
    for (const lane of lanes) this.apply(lane);
  }

  apply(lane: LaneNow): void {
    this.lanes.set(`${lane.site}/${lane.lane}`, lane);
  }

  ofSite(site: string | null): LaneNow[] {
    return [...this.lanes.values()].filter((lane) => site === null || lane.site === site);
  }

  summary(site: string): SiteSummary {
    const lanes = this.ofSite(site);
    let worst: LaneStatus = 'unknown';
    for (const lane of lanes) if (seriousness[lane.status] > seriousness[worst]) worst = lane.status;
    return {
      site,
      lanesOpen: lanes.filter((l) => l.status === 'open' || l.status === 'congested').length,
      lanesTotal: lanes.length,
      trucksLastHour: lanes.reduce((sum, l) => sum + l.lastHour.trucksCrossed, 0),
      gatesForPeople: lanes.filter(isGateForPeople).length,
      peopleLastHour: lanes.reduce((sum, l) => sum + l.lastHour.people, 0),
      queueLength: lanes.reduce((sum, l) => sum + (l.queueLength ?? 0), 0),
      worst,
      counts: countByStatus(lanes),
      worstLane: lanes.filter((l) => l.status === worst).sort((a, b) => (b.queueLength ?? 0) - (a.queueLength ?? 0))[0],
    };
  }
}

export type { ClearanceFigure, ClearanceVerdict, KpisNow, LaneNow, LaneStatus, QueueLevel };

/** Where a lane state is listed: the lanes that are not open first, a fault on top. */
export const listingOrder: Readonly<Record<LaneStatus, number>> = { fault: 0, congested: 1, closed: 2, unknown: 3, open: 4 };
/** The lane states in listing order. */
export const listedStatuses = (Object.keys(listingOrder) as LaneStatus[]).sort((a, b) => listingOrder[a] - listingOrder[b]);

function countByStatus(lanes: readonly LaneNow[]): Record<LaneStatus, number> {
  const counts: Record<LaneStatus, number> = { open: 0, congested: 0, fault: 0, closed: 0, unknown: 0 };
  for (const lane of lanes) counts[lane.status] += 1;
  return counts;
}

/** One site's lanes on the wall: its counts by state and its lanes, the ones not open first. */
export interface LaneGroup {
  site: string;
  counts: Readonly<Record<LaneStatus, number>>;
  lanes: LaneNow[];
}

/**
 * The lanes grouped by site for the wall: sites with a fault first (then congestion,
 * closed, no data), catalog order among equals; within a site the same order, then the
 * catalog's lane order. A fault is therefore always on the first page.
 */
export function laneGroups(lanes: readonly LaneNow[], sites: readonly { id: string; lanes: readonly { id: string }[] }[]): LaneGroup[] {
  const siteRank = new Map(sites.map((s, i) => [s.id, i]));
  const laneRank = new Map(sites.flatMap((s) => s.lanes.map((l, i) => [`${s.id}/${l.id}`, i] as const)));
  const rank = <K>(ranks: Map<K, number>, key: K) => ranks.get(key) ?? Number.MAX_SAFE_INTEGER;
  const bySite = new Map<string, LaneNow[]>();
  for (const lane of lanes) bySite.set(lane.site, [...(bySite.get(lane.site) ?? []), lane]);
  const groups = [...bySite].map(([site, members]): LaneGroup => {
    const counts = countByStatus(members);
    members.sort((a, b) => listingOrder[a.status] - listingOrder[b.status] || rank(laneRank, `${a.site}/${a.lane}`) - rank(laneRank, `${b.site}/${b.lane}`) || a.lane.localeCompare(b.lane));
    return { site, counts, lanes: members };
  });
  const worst = (group: LaneGroup) => listingOrder[group.lanes[0]!.status];
  return groups.sort((a, b) => worst(a) - worst(b) || rank(siteRank, a.site) - rank(siteRank, b.site) || a.site.localeCompare(b.site));
}

/** The next site of a kiosk rotation (null is the whole zone, shown first). */
export function nextInRotation(current: string | null, sites: readonly string[]): string | null {
  const order: (string | null)[] = [null, ...sites];
  return order[(order.indexOf(current) + 1) % order.length] ?? null;
}

/** Most alerts the panel holds: open ones always, cleared ones only while there is room. */
export const maxAlerts = 50;

const alertStateOrder: Readonly<Record<Alert['state'], number>> = { active: 0, acknowledged: 1, cleared: 2 };

/** The alerts panel: the newest revision of each alert, the ones nobody acknowledged first, bounded. */
export class AlertPanel {
  private readonly alerts = new Map<string, Alert>();

  reset(alerts: readonly Alert[]): void {
    this.alerts.clear();
    for (const alert of alerts) this.apply(alert);
  }

  apply(alert: Alert): void {
    const known = this.alerts.get(alert.id);
    if (!known || known.revision < alert.revision) this.alerts.set(alert.id, alert);
    const cleared = this.list().filter((a) => a.state === 'cleared');
    for (const old of cleared.slice(Math.max(0, maxAlerts - (this.alerts.size - cleared.length)))) this.alerts.delete(old.id);
  }

  /** Unacknowledged first, then acknowledged, then cleared; within each, most severe and newest first. */
  list(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => alertStateOrder[a.state] - alertStateOrder[b.state] || compareAlerts(a, b));
  }
}

export type { Alert };

/** Alert ids the chime remembers (the oldest are forgotten first; far more than a panel holds). */
const chimeMemory = 1000;

/**
 * Which alerts the optional chime (`sound=1`) sounds for: a critical alert that is new,
 * i.e. first seen in a delta while still active; never for what a snapshot holds (the
 * first one, or a site's on changing site), nor for a later revision of a known alert
 * (acknowledged, cleared, re-sent), never twice for one alert; and at most once every
 * `minGapMs`, so a storm of alerts makes one sound, not a hundred. Pure: the caller plays
 * the tone.
 */
export class AlertChime {
  private readonly known = new Set<string>();
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly minGapMs: number) {}

  /** A snapshot's alerts: known from now on, silently. */
  snapshot(alerts: readonly Alert[]): void {
    for (const alert of alerts) this.remember(alert.id);
  }

  /** Whether this delta's alert sounds the chime now. */
  delta(alert: Alert, now: number): boolean {
    const isNew = !this.known.has(alert.id);
    this.remember(alert.id);
    if (!isNew || alert.severity !== 'critical' || alert.state !== 'active' || now - this.lastAt < this.minGapMs) return false;
    this.lastAt = now;
    return true;
  }

  private remember(id: string): void {
    this.known.delete(id);
    this.known.add(id);
    for (const oldest of this.known) {
      if (this.known.size <= chimeMemory) break;
      this.known.delete(oldest);
    }
  }
}

/** One upcoming window of the site (or zone) on screen, its lane groups summed. */
export interface SlotWindowUse {
  windowStart: number;
  windowEnd: number;
  capacity: number;
  held: number;
  booked: number;
  /** booked + held over capacity, 0..1 (0 when there are no places). */
  utilisation: number;
  /** Lane groups an operator closed for this window. */
  closedGroups: number;
}

/**
 * Crossing-slot places for the wall: the `slots` snapshot, then each window's newer
 * version as it changes. Shows the current window and the next ones, per site or for
 * the zone; windows that have ended are dropped.
 */
export class SlotUtilisation {
  private readonly windows = new Map<string, SlotAvailability>();

  reset(windows: readonly SlotAvailability[]): void {
    this.windows.clear();
    for (const window of windows) this.apply(window);
  }

  apply(window: SlotAvailability): void {
    const key = `${window.site}|${window.laneKind}|${window.direction}|${window.windowStart}`;
    const known = this.windows.get(key);
    if (!known || known.version < window.version) this.windows.set(key, window);
  }

  upcoming(site: string | null, now: number, count: number): SlotWindowUse[] {
    const byStart = new Map<number, SlotWindowUse>();
    for (const [key, window] of this.windows) {
      if (window.windowEnd <= now) {
        this.windows.delete(key);
        continue;
      }
      if (site !== null && window.site !== site) continue;
      const use = byStart.get(window.windowStart) ?? { windowStart: window.windowStart, windowEnd: window.windowEnd, capacity: 0, held: 0, booked: 0, utilisation: 0, closedGroups: 0 };
      use.capacity += window.capacity;
      use.held += window.held;
      use.booked += window.booked;
      if (window.closed) use.closedGroups += 1;
      byStart.set(window.windowStart, use);
    }
    return [...byStart.values()]
      .sort((a, b) => a.windowStart - b.windowStart)
      .slice(0, count)
      .map((use) => ({ ...use, utilisation: use.capacity === 0 ? 0 : Math.min(1, (use.booked + use.held) / use.capacity) }));
  }
}
