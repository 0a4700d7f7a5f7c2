import { bucketStart } from './series.ts';
import type { Lane, Site, ThroughputMeasures } from '@tower/shared';

/** What the lane's last state event says; `unknown` when it sent none in the lookback. */
export const laneStatuses = ['open', 'congested', 'fault', 'closed', 'unknown'] as const;
export type LaneStatus = (typeof laneStatuses)[number];

const statusOfEvent: Readonly<Record<string, LaneStatus>> = {
  'lane.opened': 'open',
  'lane.cleared': 'open',
  'lane.congested': 'congested',
  'lane.fault': 'fault',
  'lane.closed': 'closed',
};

/** The lane event types that change a lane's status (queue samples and IGV telemetry do not). */
export const laneStateEventTypes = Object.keys(statusOfEvent);

/** A lane's last state event and last queue sample, as stored. */
export interface StoredLaneState {
  site: string;
  lane: string;
  /** Type of the last state event, '' when none. */
  stateType: string;
  /** ms; 0 when none. */
  stateAt: number;
  queueLength: number;
  /** ms of the last queue sample; 0 when none. */
  queueAt: number;
}

export interface LaneNow {
  site: string;
  lane: string;
  kind: Lane['kind'];
  direction: Lane['direction'];
  serviceRatePerHour: number;
  status: LaneStatus;
  statusSince: number | null;
  /** Last queue sample while fresh, else null. */
  queueLength: number | null;
  queueSampledAt: number | null;
  lastHour: { trucksCrossed: number; containersMoved: number; events: number; clearanceP95Ms: number | null };
}

export interface KpisNow {
  site: string | null;
  at: number;
  /** Start of the operators' day (midnight in Vietnam), ms. */
  dayStart: number;
  lastHour: ThroughputMeasures;
  today: ThroughputMeasures;
  clearance: { targetMs: number; p95Ms: number | null; withinTarget: boolean | null };
  /** Lanes open or congested (a lane in fault is not serving). */
  lanesOpen: number;
  lanesTotal: number;
  /** Sum of the fresh queue samples over the lanes. */
  queueLength: number;
  lanes: LaneNow[];
}

export interface KpiInputs {
  site: string | null;
  sites: readonly Site[];
  now: number;
  lastHour: ThroughputMeasures;
  today: ThroughputMeasures;
  /** Last hour per `site/lane`. */
  lanesLastHour: ReadonlyMap<string, ThroughputMeasures>;
  laneStates: readonly StoredLaneState[];
  clearanceTargetMs: number;
  queueFreshMs: number;
}

/** The start of the Vietnam day that holds `ms`. */
export function vietnamDayStart(ms: number): number {
  return bucketStart(ms, '1d');
}

/** The KPI tiles and the lane grid, from what the store returned. */
export function kpisOf(inputs: KpiInputs): KpisNow {
  const states = new Map(inputs.laneStates.map((s) => [`${s.site}/${s.lane}`, s]));
  const lanes: LaneNow[] = inputs.sites.flatMap((site) =>
    site.lanes.map((lane) => {
      const key = `${site.id}/${lane.id}`;
      const state = states.get(key);
      const fresh = state !== undefined && state.queueAt > 0 && inputs.now - state.queueAt <= inputs.queueFreshMs;
      const hour = inputs.lanesLastHour.get(key);
      return {
        site: site.id,
        lane: lane.id,
        kind: lane.kind,
        direction: lane.direction,
        serviceRatePerHour: lane.serviceRatePerHour,
        status: (state && statusOfEvent[state.stateType]) ?? 'unknown',
        statusSince: state && state.stateAt > 0 ? state.stateAt : null,
        queueLength: fresh ? state.queueLength : null,
        queueSampledAt: fresh ? state.queueAt : null,
        lastHour: { trucksCrossed: hour?.trucksCrossed ?? 0, containersMoved: hour?.containersMoved ?? 0, events: hour?.events ?? 0, clearanceP95Ms: hour?.clearanceP95Ms ?? null },
      };
    }),
  );
  const p95 = inputs.lastHour.clearanceP95Ms;
  return {
    site: inputs.site,
    at: inputs.now,
    dayStart: vietnamDayStart(inputs.now),
    lastHour: inputs.lastHour,
    today: inputs.today,
    clearance: { targetMs: inputs.clearanceTargetMs, p95Ms: p95, withinTarget: p95 === null ? null : p95 <= inputs.clearanceTargetMs },
    lanesOpen: lanes.filter((l) => l.status === 'open' || l.status === 'congested').length,
    lanesTotal: lanes.length,
    queueLength: lanes.reduce((sum, l) => sum + (l.queueLength ?? 0), 0),
    lanes,
  };
}
