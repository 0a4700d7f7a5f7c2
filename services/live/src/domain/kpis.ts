import { defaultAlertThresholds } from './alerts.ts';
import { bucketStart } from './series.ts';
import { sitePhase, type Lane, type Site, type ThroughputMeasures } from '@tower/shared';

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
  /** `people`: person crossings through the lane (a biometric gate), never counted in `trucksCrossed`. */
  lastHour: { trucksCrossed: number; containersMoved: number; events: number; clearanceP95Ms: number | null; people: number };
}

/** Person crossings through the biometric gates, exits (xuất cảnh) and entries (nhập cảnh). */
export interface PeopleCount {
  exits: number;
  entries: number;
}

/** People of one gate and direction (`exit` / `entry`) as stored: the last hour and today. */
export interface StoredPeople {
  site: string;
  lane: string;
  direction: string;
  lastHour: number;
  today: number;
}

export interface KpisNow {
  site: string | null;
  at: number;
  /** Start of the operators' day (midnight in Vietnam), ms. */
  dayStart: number;
  lastHour: ThroughputMeasures;
  today: ThroughputMeasures;
  /** Smart lanes judged against the target, manual lanes apart; trucks held by customs counted, not timed. */
  clearance: { targetMs: number; minTrucks: number; smart: JudgedClearance; manual: ClearanceFigure };
  /** Lanes open or congested (a lane in fault is not serving). */
  lanesOpen: number;
  lanesTotal: number;
  /** `warning` when fewer than the configured share of the lanes are open. */
  lanesOpenLevel: LanesOpenLevel;
  /** People through the biometric gates in scope: apart from every truck figure. */
  people: { lastHour: PeopleCount; today: PeopleCount };
  /** Sum of the fresh queue samples over the lanes. */
  queueLength: number;
  /** The longest fresh queue of one lane (0 without samples): what the queue level is judged on. */
  queueLongest: number;
  /** The longest lane queue against the queue alert thresholds (per lane, as the alert rule). */
  queueLevel: QueueLevel;
  lanes: LaneNow[];
}

/**
 * The clearances (plate read to gate-out) of one lane kind in the last hour. A truck held
 * by customs (10–45 min of inspection) is counted in `heldTrucks` and left out of the
 * times: the 15 s target is the gate's clearance of a truck that passes, and a few holds
 * would otherwise set the p95 to the inspections' length.
 */
export interface ClearanceFigure {
  /** Trucks that passed without a hold: the sample the times are taken from. */
  trucks: number;
  p50Ms: number | null;
  p95Ms: number | null;
  heldTrucks: number;
}

export const clearanceVerdicts = ['within', 'over', 'too-few', 'none'] as const;
/** `too-few`: fewer trucks than the minimum, not judged; `none`: no truck at all. */
export type ClearanceVerdict = (typeof clearanceVerdicts)[number];
export interface JudgedClearance extends ClearanceFigure {
  verdict: ClearanceVerdict;
}

export const queueLevels = ['normal', 'warning', 'critical'] as const;
export type QueueLevel = (typeof queueLevels)[number];
export const lanesOpenLevels = ['normal', 'warning'] as const;
export type LanesOpenLevel = (typeof lanesOpenLevels)[number];

/** What the tiles, and the clearance alert on the same figures, are judged by (live service config). */
export interface TileThresholds {
  clearanceTargetMs: number;
  /** No clearance is judged on fewer trucks than this. */
  clearanceMinTrucks: number;
  /** Vehicles at one lane: the queue alert rule's thresholds. */
  queueWarningVehicles: number;
  queueCriticalVehicles: number;
  /** Share of the lanes (0–1) under which lanes open is a warning. */
  lanesOpenWarningShare: number;
}

/** The tiles' thresholds when the environment says nothing (the queue's are the alert rule's). */
export const defaultTileThresholds: TileThresholds = {
  clearanceTargetMs: 15_000,
  clearanceMinTrucks: 20,
  queueWarningVehicles: defaultAlertThresholds.queueWarningVehicles,
  queueCriticalVehicles: defaultAlertThresholds.queueCriticalVehicles,
  lanesOpenWarningShare: 0.8,
};

export const noClearances: Readonly<ClearanceFigure> = Object.freeze({ trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0 });

/** The p95 against the target, or not judged when the sample is under the minimum. */
export function judgeClearance(figure: ClearanceFigure, targetMs: number, minTrucks: number): ClearanceVerdict {
  if (figure.trucks === 0 || figure.p95Ms === null) return 'none';
  if (figure.trucks < minTrucks) return 'too-few';
  return figure.p95Ms <= targetMs ? 'within' : 'over';
}

export function judgeQueue(longestLaneQueue: number, thresholds: Pick<TileThresholds, 'queueWarningVehicles' | 'queueCriticalVehicles'>): QueueLevel {
  if (longestLaneQueue >= thresholds.queueCriticalVehicles) return 'critical';
  return longestLaneQueue >= thresholds.queueWarningVehicles ? 'warning' : 'normal';
}

export function judgeLanesOpen(open: number, total: number, warningShare: number): LanesOpenLevel {
  return total > 0 && open < total * warningShare ? 'warning' : 'normal';
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
  /** People per gate and direction, every site (those in scope are counted). */
  people: readonly StoredPeople[];
  /** Last hour's clearances of the smart and the manual lanes in scope. */
  clearances: { smart: ClearanceFigure; manual: ClearanceFigure };
  thresholds: TileThresholds;
  queueFreshMs: number;
}

/** The start of the Vietnam day that holds `ms`. */
export function vietnamDayStart(ms: number): number {
  return bucketStart(ms, '1d');
}

/** The KPI tiles and the lane grid, from what the store returned. */
export function kpisOf(inputs: KpiInputs): KpisNow {
  const states = new Map(inputs.laneStates.map((s) => [`${s.site}/${s.lane}`, s]));
  const inScope = new Set(inputs.sites.map((s) => s.id));
  const people = { lastHour: { exits: 0, entries: 0 }, today: { exits: 0, entries: 0 } };
  const peopleByLane = new Map<string, number>();
  for (const row of inputs.people) {
    if (!inScope.has(row.site) || (row.direction !== 'exit' && row.direction !== 'entry')) continue;
    const way = row.direction === 'exit' ? 'exits' : 'entries';
    people.lastHour[way] += row.lastHour;
    people.today[way] += row.today;
    peopleByLane.set(`${row.site}/${row.lane}`, (peopleByLane.get(`${row.site}/${row.lane}`) ?? 0) + row.lastHour);
  }
  // A site under construction (Vạn Ninh) has no lane in service yet: its catalog lanes are neither lanes without data nor lanes closed.
  const lanes: LaneNow[] = inputs.sites.filter((site) => sitePhase(site) === 'operating').flatMap((site) =>
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
        lastHour: { trucksCrossed: hour?.trucksCrossed ?? 0, containersMoved: hour?.containersMoved ?? 0, events: hour?.events ?? 0, clearanceP95Ms: hour?.clearanceP95Ms ?? null, people: peopleByLane.get(key) ?? 0 },
      };
    }),
  );
  const { thresholds, clearances } = inputs;
  const lanesOpen = lanes.filter((l) => l.status === 'open' || l.status === 'congested').length;
  const queueLongest = Math.max(0, ...lanes.map((l) => l.queueLength ?? 0));
  return {
    site: inputs.site,
    at: inputs.now,
    dayStart: vietnamDayStart(inputs.now),
    lastHour: inputs.lastHour,
    today: inputs.today,
    clearance: {
      targetMs: thresholds.clearanceTargetMs,
      minTrucks: thresholds.clearanceMinTrucks,
      smart: { ...clearances.smart, verdict: judgeClearance(clearances.smart, thresholds.clearanceTargetMs, thresholds.clearanceMinTrucks) },
      manual: clearances.manual,
    },
    lanesOpen,
    lanesTotal: lanes.length,
    lanesOpenLevel: judgeLanesOpen(lanesOpen, lanes.length, thresholds.lanesOpenWarningShare),
    people,
    queueLength: lanes.reduce((sum, l) => sum + (l.queueLength ?? 0), 0),
    queueLongest,
    queueLevel: judgeQueue(queueLongest, thresholds),
    lanes,
  };
}
