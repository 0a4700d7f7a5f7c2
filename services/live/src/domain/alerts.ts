import { Type, type Static } from '@sinclair/typebox';
import type { KpisNow } from './kpis.ts';

/**
 * Alerts on the live figures: the rules (pure functions of one KPI round) and the shape
 * of an alert. The lifecycle (raise once per cause, acknowledge, clear) is kept in Redis
 * by gateway/alert-engine.ts; this file decides only what is wrong right now.
 */
export const alertRules = ['queue-over-threshold', 'throughput-below-nominal', 'clearance-over-target', 'lane-fault', 'customs-hold-spike'] as const;
export type AlertRule = (typeof alertRules)[number];
export const alertSeverities = ['critical', 'warning'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];
export const alertStates = ['active', 'acknowledged', 'cleared'] as const;

export const Alert = Type.Object(
  {
    id: Type.String({ description: 'unique per raise' }),
    cause: Type.String({ description: 'rule and place (`lane-fault:bac-luan-2/bl2-smart-ex-1`): at most one open alert per cause' }),
    rule: Type.Union(alertRules.map((r) => Type.Literal(r))),
    severity: Type.Union(alertSeverities.map((s) => Type.Literal(s))),
    site: Type.String(),
    lane: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union(alertStates.map((s) => Type.Literal(s))),
    /** Grows by one at every change; the newest revision of an id wins. */
    revision: Type.Integer({ minimum: 1 }),
    value: Type.Number({ description: 'the figure that broke the rule when raised (vehicles, trucks/h, ms, holds)' }),
    threshold: Type.Number(),
    raisedAt: Type.Integer(),
    acknowledgedAt: Type.Union([Type.Integer(), Type.Null()]),
    acknowledgedBy: Type.Union([Type.String(), Type.Null()], { description: 'the operator token id that acknowledged' }),
    acknowledgedByName: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: "the acknowledging operator's display name as the wall shows it (the token's displayName, else its id); absent on alerts stored before it existed",
      }),
    ),
    clearedAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false, title: 'Alert' },
);
export type Alert = Static<typeof Alert>;

export interface AlertThresholds {
  /** A lane queue at or over this many vehicles is a warning… */
  queueWarningVehicles: number;
  /** …and at or over this, critical. */
  queueCriticalVehicles: number;
  /** An open lane with a queue that moves fewer trucks/h than this share of its nominal rate. */
  belowNominalRatio: number;
  /** Trucks queuing before "below nominal" counts (an empty lane is not slow). */
  belowNominalMinQueue: number;
  /** Customs holds in the last hour at a site, at least… */
  holdSpikeMin: number;
  /** …and this many times the day's hourly average so far. */
  holdSpikeFactor: number;
}

export const defaultAlertThresholds: AlertThresholds = {
  queueWarningVehicles: 30,
  queueCriticalVehicles: 60,
  belowNominalRatio: 0.3,
  belowNominalMinQueue: 10,
  holdSpikeMin: 5,
  holdSpikeFactor: 3,
};

/** Something wrong now, before the lifecycle turns it into an alert. */
export interface AlertCondition {
  cause: string;
  rule: AlertRule;
  severity: AlertSeverity;
  site: string;
  lane: string | null;
  value: number;
  threshold: number;
}

const hourMs = 3_600_000;

/**
 * What is wrong in one KPI round (per-site tiles; lanes from each site's grid). The
 * clearance rule raises exactly when the site's smart-clearance tile says `over`
 * (kpis.ts judgeClearance: the tile's target and minimum sample, held trucks not timed).
 */
export function alertConditions(sites: Iterable<KpisNow>, thresholds: AlertThresholds): AlertCondition[] {
  const conditions: AlertCondition[] = [];
  const add = (rule: AlertRule, severity: AlertSeverity, site: string, lane: string | null, value: number, threshold: number) =>
    conditions.push({ cause: `${rule}:${site}${lane === null ? '' : `/${lane}`}`, rule, severity, site, lane, value, threshold });
  for (const kpis of sites) {
    const site = kpis.site!;
    for (const lane of kpis.lanes) {
      const queue = lane.queueLength ?? 0;
      if (lane.status === 'fault') add('lane-fault', 'critical', site, lane.lane, 1, 1);
      if (queue >= thresholds.queueWarningVehicles) {
        const critical = queue >= thresholds.queueCriticalVehicles;
        add('queue-over-threshold', critical ? 'critical' : 'warning', site, lane.lane, queue, critical ? thresholds.queueCriticalVehicles : thresholds.queueWarningVehicles);
      }
      const floor = lane.serviceRatePerHour * thresholds.belowNominalRatio;
      if ((lane.status === 'open' || lane.status === 'congested') && queue >= thresholds.belowNominalMinQueue && lane.lastHour.trucksCrossed < floor) {
        add('throughput-below-nominal', 'warning', site, lane.lane, lane.lastHour.trucksCrossed, Math.round(floor));
      }
    }
    // The site's smart-clearance tile, as judged: trucks held by customs apart, no verdict under the minimum sample.
    const { smart, targetMs } = kpis.clearance;
    if (smart.verdict === 'over' && smart.p95Ms !== null) add('clearance-over-target', 'warning', site, null, smart.p95Ms, targetMs);
    const holds = kpis.lastHour.customsHolds;
    const hoursToday = Math.max(1, (kpis.at - kpis.dayStart) / hourMs);
    const usual = kpis.today.customsHolds / hoursToday;
    const spikeAt = Math.max(thresholds.holdSpikeMin, thresholds.holdSpikeFactor * usual);
    if (holds >= spikeAt) add('customs-hold-spike', 'warning', site, null, holds, Math.ceil(spikeAt));
  }
  return conditions;
}

/** What the lifecycle does with one round of conditions. */
export interface AlertPlan {
  /** Conditions whose cause has no open alert: raise one each. */
  raise: AlertCondition[];
  /** Open alerts whose cause has not been seen for `clearAfterMs`: clear them. */
  clear: Alert[];
}

/**
 * Turns conditions into lifecycle steps. At most one open alert per cause; an alert is
 * cleared only after its cause has been absent for `clearAfterMs`, so a figure that
 * flickers around its threshold does not raise and clear every few seconds.
 * `lastSeen` (cause → ms) is the caller's memory between rounds.
 */
export function planAlerts(open: readonly Alert[], conditions: readonly AlertCondition[], lastSeen: Map<string, number>, now: number, clearAfterMs: number): AlertPlan {
  const openCauses = new Set(open.map((alert) => alert.cause));
  const current = new Set<string>();
  const raise: AlertCondition[] = [];
  for (const condition of conditions) {
    if (current.has(condition.cause)) continue;
    current.add(condition.cause);
    lastSeen.set(condition.cause, now);
    if (!openCauses.has(condition.cause)) raise.push(condition);
  }
  const clear: Alert[] = [];
  for (const alert of open) {
    if (current.has(alert.cause)) continue;
    const seen = lastSeen.get(alert.cause);
    if (seen === undefined) lastSeen.set(alert.cause, now); // open before this process watched: give it the full delay
    else if (now - seen >= clearAfterMs) clear.push(alert);
  }
  for (const cause of lastSeen.keys()) if (!current.has(cause) && !openCauses.has(cause)) lastSeen.delete(cause);
  return { raise, clear };
}

/** A new alert for a condition. */
export function alertOf(condition: AlertCondition, id: string, now: number): Alert {
  return { id, ...condition, state: 'active', revision: 1, raisedAt: now, acknowledgedAt: null, acknowledgedBy: null, acknowledgedByName: null, clearedAt: null };
}
