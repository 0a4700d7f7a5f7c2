import { describe, expect, it } from 'vitest';
import { emptyMeasures } from '@tower/shared';
import { alertConditions, alertOf, defaultAlertThresholds, planAlerts, type AlertCondition } from './alerts.ts';
import { judgeClearance, noClearances, type ClearanceFigure, type KpisNow, type LaneNow } from './kpis.ts';

const hour = 3_600_000;

function lane(id: string, overrides: Partial<LaneNow> = {}, lastHour: Partial<LaneNow['lastHour']> = {}): LaneNow {
  return {
    site: 'bac-luan-2', lane: id, kind: 'smart', direction: 'export', serviceRatePerHour: 240, status: 'open', statusSince: 1, queueLength: 0, queueSampledAt: 1,
    ...overrides,
    lastHour: { trucksCrossed: 200, containersMoved: 0, events: 900, clearanceP95Ms: 9000, people: 0, ...lastHour },
  };
}

function site(lanes: LaneNow[], holds = { lastHour: 0, today: 0 }, hoursIntoDay = 10, smart: ClearanceFigure = noClearances): KpisNow {
  return {
    site: 'bac-luan-2', at: hoursIntoDay * hour, dayStart: 0,
    lastHour: { ...emptyMeasures, customsHolds: holds.lastHour }, today: { ...emptyMeasures, customsHolds: holds.today },
    clearance: { targetMs: 15_000, minTrucks: 20, smart: { ...smart, verdict: judgeClearance(smart, 15_000, 20) }, manual: noClearances },
    people: { lastHour: { exits: 0, entries: 0 }, today: { exits: 0, entries: 0 } },
    lanesOpen: 0, lanesTotal: lanes.length, lanesOpenLevel: 'warning', queueLength: 0, queueLongest: 0, queueLevel: 'normal', lanes,
  };
}

const causes = (conditions: AlertCondition[]) => conditions.map((c) => `${c.cause}@${c.severity}`).sort();

describe('alert rules', () => {
  it('says nothing about a lane working normally', () => {
    expect(alertConditions([site([lane('a')])], defaultAlertThresholds)).toEqual([]);
  });

  it('raises for a fault, a queue over threshold (critical past the second), and a slow lane with a queue', () => {
    const conditions = alertConditions(
      [
        site([
          lane('fault', { status: 'fault' }),
          lane('queue', { queueLength: 35 }),
          lane('jam', { queueLength: 70 }),
          lane('slow', { queueLength: 12 }, { trucksCrossed: 50 }),
          lane('slow-empty', { queueLength: 0 }, { trucksCrossed: 5 }),
        ]),
      ],
      defaultAlertThresholds,
    );
    expect(causes(conditions)).toEqual(
      [
        'lane-fault:bac-luan-2/fault@critical',
        'queue-over-threshold:bac-luan-2/jam@critical',
        'queue-over-threshold:bac-luan-2/queue@warning',
        'throughput-below-nominal:bac-luan-2/slow@warning',
      ].sort(),
    );
    expect(conditions.find((c) => c.rule === 'throughput-below-nominal')).toMatchObject({ value: 50, threshold: 72 });
    expect(conditions.find((c) => c.lane === 'jam')).toMatchObject({ value: 70, threshold: 60 });
  });

  it('calls clearance over target exactly when the site’s smart-clearance tile says over: the same figure and minimum sample', () => {
    const over = { trucks: 24, p50Ms: 12_000, p95Ms: 21_000, heldTrucks: 0 };
    const conditions = alertConditions([site([lane('a')], undefined, undefined, over)], defaultAlertThresholds);
    expect(conditions).toEqual([{ cause: 'clearance-over-target:bac-luan-2', rule: 'clearance-over-target', severity: 'warning', site: 'bac-luan-2', lane: null, value: 21_000, threshold: 15_000 }]);
    // A truck held by customs for a 30-minute inspection: its lane's p95 (all gate-outs) is 30 minutes, but the tile times only the trucks that passed.
    const held = lane('a', {}, { trucksCrossed: 25, clearanceP95Ms: 30 * 60_000 });
    expect(causes(alertConditions([site([held], undefined, undefined, { trucks: 24, p50Ms: 9_000, p95Ms: 13_000, heldTrucks: 1 })], defaultAlertThresholds))).toEqual([]);
    // Ten trucks over the target: too few to judge, on the tile and for the alert.
    const few = lane('a', {}, { trucksCrossed: 10, clearanceP95Ms: 21_000 });
    expect(causes(alertConditions([site([few], undefined, undefined, { trucks: 10, p50Ms: 16_000, p95Ms: 21_000, heldTrucks: 0 })], defaultAlertThresholds))).toEqual([]);
  });

  it('calls a customs-hold spike when the last hour holds at least three times the day’s hourly average (and at least five)', () => {
    // 10 h into the day with 30 holds: 3 an hour is usual, 9 in an hour is a spike.
    expect(causes(alertConditions([site([], { lastHour: 8, today: 30 })], defaultAlertThresholds))).toEqual([]);
    expect(causes(alertConditions([site([], { lastHour: 9, today: 30 })], defaultAlertThresholds))).toEqual(['customs-hold-spike:bac-luan-2@warning']);
    expect(causes(alertConditions([site([], { lastHour: 4, today: 4 }, 1)], defaultAlertThresholds))).toEqual([]);
  });
});

describe('alert lifecycle plan', () => {
  const fault: AlertCondition = { cause: 'lane-fault:bac-luan-2/x', rule: 'lane-fault', severity: 'critical', site: 'bac-luan-2', lane: 'x', value: 1, threshold: 1 };

  it('raises once per cause, keeps it while the cause lasts, clears only after the cause has been gone for the delay', () => {
    const lastSeen = new Map<string, number>();
    expect(planAlerts([], [fault, fault], lastSeen, 0, 60_000)).toEqual({ raise: [fault], clear: [] });
    const open = [alertOf(fault, 'a1', 0)];
    expect(planAlerts(open, [fault], lastSeen, 5_000, 60_000)).toEqual({ raise: [], clear: [] });
    expect(planAlerts(open, [], lastSeen, 30_000, 60_000)).toEqual({ raise: [], clear: [] }); // gone 25 s: not yet
    expect(planAlerts(open, [fault], lastSeen, 40_000, 60_000)).toEqual({ raise: [], clear: [] }); // back: the clock restarts
    expect(planAlerts(open, [], lastSeen, 99_000, 60_000)).toEqual({ raise: [], clear: [] });
    expect(planAlerts(open, [], lastSeen, 100_000, 60_000)).toEqual({ raise: [], clear: open });
  });

  it('gives an alert it did not see raised the full delay before clearing it (a new leader)', () => {
    const lastSeen = new Map<string, number>();
    const open = [alertOf(fault, 'a1', 0)];
    expect(planAlerts(open, [], lastSeen, 500_000, 60_000).clear).toEqual([]);
    expect(planAlerts(open, [], lastSeen, 560_000, 60_000).clear).toEqual(open);
  });
});
