import { describe, expect, it } from 'vitest';
import { loadCatalog, type ConditionThresholds, type SlotAvailability } from '@tower/shared';
import { conditionLevel, conditionsOf, expectedWait, type ConditionsInputs } from './conditions.ts';
import type { LaneNow, LaneStatus } from './kpis.ts';

const catalog = loadCatalog();
const site = catalog.site('bac-luan-2')!;
const windowMs = 30 * 60_000;
// 16:10 Vietnam time: the current window is 16:00–16:30.
const at = Date.UTC(2026, 10, 23, 9, 10);
const current = Date.UTC(2026, 10, 23, 9, 0);
const thresholds: ConditionThresholds = { busyWaitMinutes: 20, congestedWaitMinutes: 45, busyQueueVehicles: 30, congestedQueueVehicles: 60, minTrucksPerHour: 6 };

const lane = (id: string, status: LaneStatus, queueLength: number | null, trucksCrossed: number): LaneNow => {
  const catalogLane = site.lanes.find((l) => l.id === id)!;
  return {
    site: site.id,
    lane: id,
    kind: catalogLane.kind,
    direction: catalogLane.direction,
    serviceRatePerHour: catalogLane.serviceRatePerHour,
    status,
    statusSince: at - 3_600_000,
    queueLength,
    queueSampledAt: queueLength === null ? null : at - 30_000,
    lastHour: { trucksCrossed, containersMoved: 0, events: 0, clearanceP95Ms: null, people: 0 },
  };
};

const window = (start: number, free: number, closed = false): SlotAvailability => ({ site: site.id, laneKind: 'smart', direction: 'export', windowStart: start, windowEnd: start + windowMs, capacity: 360, held: 0, booked: 360 - free, free, closed, version: 3 });

const inputs = (overrides: Partial<ConditionsInputs>): ConditionsInputs => ({ at, groups: [{ site, laneKind: 'smart', direction: 'export' }], lanes: [], windows: [], windowMs, thresholds, ...overrides });

describe('gate conditions of a lane group', () => {
  it('sums the queue and last hour of the group’s lanes only, and turns them into a wait in minutes', () => {
    const [smart] = conditionsOf(
      inputs({
        lanes: [lane('bl2-smart-ex-1', 'open', 10, 100), lane('bl2-smart-ex-2', 'congested', 14, 80), lane('bl2-smart-ex-3', 'fault', null, 20), lane('bl2-smart-im-1', 'open', 50, 300), lane('bl2-igv-ex-1', 'open', 40, 10)],
      }),
    );
    expect(smart).toMatchObject({
      site: 'bac-luan-2',
      laneKind: 'smart',
      direction: 'export',
      trucksQueuing: 24,
      lanesOpen: 2,
      lanesTotal: 3,
      throughputPerHour: 200,
      // 24 trucks at 200 an hour: 7.2 minutes, rounded up.
      expectedWaitMinutes: 8,
      waitUnknownReason: null,
      // A lane reports itself congested: busy, though the wait and queues are under the thresholds.
      level: 'busy',
      asOf: at,
      asOfIso: '2026-11-23T16:10:00+07:00',
    });
    expect(smart!.names).toEqual({ vi: expect.stringMatching(/^Làn/), en: expect.any(String), zh: expect.any(String) });
    expect(smart!.names.en).not.toMatch(/\d$/);
    expect(smart!.siteNames).toEqual(site.names);
  });

  it('gives no wait without throughput to judge it by, and names why', () => {
    expect(expectedWait(12, 3, 2, 6)).toEqual({ minutes: null, reason: 'too-little-throughput' });
    expect(expectedWait(12, 0, 2, 0)).toEqual({ minutes: null, reason: 'too-little-throughput' });
    expect(expectedWait(null, 300, 2, 6)).toEqual({ minutes: null, reason: 'no-queue-sample' });
    expect(expectedWait(12, 300, 0, 6)).toEqual({ minutes: null, reason: 'no-lane-open' });
    // Nobody queuing: no wait, whatever the hour's throughput.
    expect(expectedWait(0, 0, 1, 6)).toEqual({ minutes: 0, reason: null });
    expect(expectedWait(30, 60, 1, 6)).toEqual({ minutes: 30, reason: null });
    const [quiet] = conditionsOf(inputs({ lanes: [lane('bl2-smart-ex-1', 'open', 5, 2), lane('bl2-smart-ex-2', 'open', null, 1)] }));
    expect(quiet).toMatchObject({ trucksQueuing: 5, throughputPerHour: 3, expectedWaitMinutes: null, waitUnknownReason: 'too-little-throughput', level: 'normal' });
    const [silent] = conditionsOf(inputs({ lanes: [lane('bl2-smart-ex-1', 'open', null, 200)] }));
    expect(silent).toMatchObject({ trucksQueuing: null, expectedWaitMinutes: null, waitUnknownReason: 'no-queue-sample' });
  });

  it('is closed when every lane is in fault, closed or silent', () => {
    const [group] = conditionsOf(inputs({ lanes: [lane('bl2-smart-ex-1', 'fault', 25, 40), lane('bl2-smart-ex-2', 'closed', null, 0), lane('bl2-smart-ex-3', 'unknown', null, 0)] }));
    expect(group).toMatchObject({ lanesOpen: 0, lanesTotal: 3, trucksQueuing: 25, expectedWaitMinutes: null, waitUnknownReason: 'no-lane-open', level: 'closed' });
  });

  it('judges busy and congested by the wait and by the longest lane queue', () => {
    const open = (queue: number) => [lane('bl2-smart-ex-1', 'open', queue, 120)];
    expect(conditionLevel(open(5), 19, thresholds)).toBe('normal');
    expect(conditionLevel(open(5), 20, thresholds)).toBe('busy');
    expect(conditionLevel(open(30), 0, thresholds)).toBe('busy');
    expect(conditionLevel(open(5), 45, thresholds)).toBe('congested');
    expect(conditionLevel(open(60), null, thresholds)).toBe('congested');
    // 50 trucks at 120 an hour: 25 minutes, busy.
    expect(conditionsOf(inputs({ lanes: open(50) }))[0]).toMatchObject({ expectedWaitMinutes: 25, level: 'busy' });
  });

  it('lists the current window and the three after it, a closed window with no free places', () => {
    const windows = [
      window(current - windowMs, 10),
      window(current + 3 * windowMs, 40),
      window(current, 100),
      window(current + windowMs, 200, true),
      window(current + 2 * windowMs, 0),
      window(current + 4 * windowMs, 360),
      { ...window(current, 5), direction: 'import' as const },
    ];
    const [group] = conditionsOf(inputs({ windows }));
    expect(group!.nextWindows).toEqual([
      { windowStart: current, windowEnd: current + windowMs, windowStartIso: '2026-11-23T16:00:00+07:00', windowEndIso: '2026-11-23T16:30:00+07:00', capacity: 360, placesFree: 100, closed: false },
      expect.objectContaining({ windowStart: current + windowMs, placesFree: 0, closed: true }),
      expect.objectContaining({ windowStart: current + 2 * windowMs, placesFree: 0, closed: false }),
      expect.objectContaining({ windowStart: current + 3 * windowMs, placesFree: 40, closed: false }),
    ]);
  });
});
