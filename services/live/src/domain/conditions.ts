import { laneGroupNames, laneGroupOf, vietnamIso, type ConditionLevel, type ConditionThresholds, type ConditionsWindow, type LaneGroupConditions, type Site, type SlotAvailability, type WaitUnknownReason } from '@tower/shared';
import type { LaneNow } from './kpis.ts';

/** Windows in `nextWindows`: the current one and the three after it (two hours of 30-minute windows). */
export const conditionsWindowCount = 4;

/** A bookable lane group of an operating site: what conditions are given for. */
export interface ConditionsGroup {
  site: Site;
  laneKind: string;
  direction: 'export' | 'import';
}

export interface ConditionsInputs {
  /** When the KPI round was read. */
  at: number;
  groups: readonly ConditionsGroup[];
  /** The zone's lane grid of that round. */
  lanes: readonly LaneNow[];
  /** Each group's windows (any order, others ignored): `nextWindows` takes those from the current window on. */
  windows: readonly SlotAvailability[];
  windowMs: number;
  thresholds: ConditionThresholds;
}

const serving = (lane: LaneNow) => lane.status === 'open' || lane.status === 'congested';

/**
 * The expected wait of a group: its queue ÷ the trucks its lanes cleared in the last
 * hour, in whole minutes rounded up. Null, with the reason, when no lane serves, no lane
 * sampled its queue, or too few trucks crossed to judge a rate (a quiet hour would turn
 * three trucks in the queue into an hour's wait).
 */
export function expectedWait(trucksQueuing: number | null, throughputPerHour: number, lanesOpen: number, minTrucksPerHour: number): { minutes: number | null; reason: WaitUnknownReason | null } {
  if (lanesOpen === 0) return { minutes: null, reason: 'no-lane-open' };
  if (trucksQueuing === null) return { minutes: null, reason: 'no-queue-sample' };
  if (trucksQueuing === 0) return { minutes: 0, reason: null };
  if (throughputPerHour < Math.max(1, minTrucksPerHour)) return { minutes: null, reason: 'too-little-throughput' };
  return { minutes: Math.ceil((trucksQueuing * 60) / throughputPerHour), reason: null };
}

/**
 * The level of a group: `closed` when no lane serves; `congested` when the expected wait
 * or one lane's queue reaches its congested threshold; `busy` when either reaches its
 * busy threshold or a lane reports itself congested; else `normal`.
 */
export function conditionLevel(lanes: readonly LaneNow[], waitMinutes: number | null, thresholds: ConditionThresholds): ConditionLevel {
  if (!lanes.some(serving)) return 'closed';
  const longest = Math.max(0, ...lanes.map((l) => l.queueLength ?? 0));
  const wait = waitMinutes ?? 0;
  if (wait >= thresholds.congestedWaitMinutes || longest >= thresholds.congestedQueueVehicles) return 'congested';
  if (wait >= thresholds.busyWaitMinutes || longest >= thresholds.busyQueueVehicles || lanes.some((l) => l.status === 'congested')) return 'busy';
  return 'normal';
}

const windowOf = (window: SlotAvailability): ConditionsWindow => ({
  windowStart: window.windowStart,
  windowEnd: window.windowEnd,
  windowStartIso: vietnamIso(window.windowStart),
  windowEndIso: vietnamIso(window.windowEnd),
  capacity: window.capacity,
  placesFree: window.closed ? 0 : window.free,
  closed: window.closed,
});

/** The conditions of every group from one KPI round and the slot windows known then. */
export function conditionsOf(inputs: ConditionsInputs): LaneGroupConditions[] {
  const { at, windowMs, thresholds } = inputs;
  const current = Math.floor(at / windowMs) * windowMs;
  const until = current + conditionsWindowCount * windowMs;
  const windowsByGroup = new Map<string, SlotAvailability[]>();
  for (const window of inputs.windows) {
    if (window.windowStart < current || window.windowStart >= until) continue;
    const key = laneGroupOf(window);
    windowsByGroup.set(key, [...(windowsByGroup.get(key) ?? []), window]);
  }
  return inputs.groups.map(({ site, laneKind, direction }) => {
    const lanes = inputs.lanes.filter((l) => l.site === site.id && l.kind === laneKind && l.direction === direction);
    const sampled = lanes.filter((l) => l.queueLength !== null);
    const trucksQueuing = sampled.length === 0 ? null : sampled.reduce((sum, l) => sum + (l.queueLength ?? 0), 0);
    const lanesOpen = lanes.filter(serving).length;
    const throughputPerHour = lanes.reduce((sum, l) => sum + l.lastHour.trucksCrossed, 0);
    const wait = expectedWait(trucksQueuing, throughputPerHour, lanesOpen, thresholds.minTrucksPerHour);
    const names = laneGroupNames(site, laneKind, direction) ?? site.names;
    const windows = (windowsByGroup.get(laneGroupOf({ site: site.id, laneKind, direction })) ?? []).sort((a, b) => a.windowStart - b.windowStart);
    return {
      site: site.id,
      laneKind,
      direction,
      siteNames: site.names,
      names,
      trucksQueuing,
      lanesOpen,
      lanesTotal: lanes.length,
      throughputPerHour,
      expectedWaitMinutes: wait.minutes,
      waitUnknownReason: wait.reason,
      level: conditionLevel(lanes, wait.minutes, thresholds),
      nextWindows: windows.map(windowOf),
      asOf: at,
      asOfIso: vietnamIso(at),
    };
  });
}
