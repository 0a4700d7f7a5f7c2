import { describe, expect, it } from 'vitest';
import { emptyMeasures, loadCatalog } from '@tower/shared';
import { defaultTileThresholds, judgeClearance, judgeLanesOpen, judgeQueue, kpisOf, noClearances, type KpiInputs } from './kpis.ts';

const catalog = loadCatalog();
const site = catalog.site('bac-luan-2')!;
const now = Date.UTC(2026, 10, 23, 9, 0);
const [first, second, third] = site.lanes.map((l) => l.id);

const inputs = (overrides: Partial<KpiInputs>): KpiInputs => ({
  site: site.id,
  sites: [site],
  now,
  lastHour: emptyMeasures,
  today: emptyMeasures,
  lanesLastHour: new Map(),
  laneStates: [],
  people: [],
  clearances: { smart: noClearances, manual: noClearances },
  thresholds: { ...defaultTileThresholds, clearanceTargetMs: 15_000, clearanceMinTrucks: 20, queueWarningVehicles: 30, queueCriticalVehicles: 60, lanesOpenWarningShare: 0.8 },
  queueFreshMs: 15 * 60_000,
  ...overrides,
});

describe('KPIs of now', () => {
  it('gives every catalog lane a status from its last state event, unknown without one', () => {
    const kpis = kpisOf(
      inputs({
        laneStates: [
          { site: site.id, lane: first!, stateType: 'lane.cleared', stateAt: now - 60_000, queueLength: 4, queueAt: now - 30_000 },
          { site: site.id, lane: second!, stateType: 'lane.fault', stateAt: now - 120_000, queueLength: 9, queueAt: now - 60 * 60_000 },
          { site: site.id, lane: third!, stateType: 'lane.congested', stateAt: now - 10_000, queueLength: 30, queueAt: now - 10_000 },
        ],
      }),
    );
    const byLane = new Map(kpis.lanes.map((l) => [l.lane, l]));
    expect(byLane.get(first!)).toMatchObject({ status: 'open', statusSince: now - 60_000, queueLength: 4 });
    expect(byLane.get(second!)).toMatchObject({ status: 'fault', queueLength: null, queueSampledAt: null }); // sample too old
    expect(byLane.get(third!)).toMatchObject({ status: 'congested', queueLength: 30 });
    expect(kpis.lanes.filter((l) => l.status === 'unknown')).toHaveLength(site.lanes.length - 3);
    expect(kpis).toMatchObject({ lanesOpen: 2, lanesTotal: site.lanes.length, queueLength: 34 });
  });

  it('judges the smart lanes’ clearance against the target, and only on at least the minimum of trucks', () => {
    const smart = (trucks: number, p95Ms: number | null) => ({ trucks, p50Ms: p95Ms, p95Ms, heldTrucks: 0 });
    expect(judgeClearance(smart(42, 14_000), 15_000, 20)).toBe('within');
    expect(judgeClearance(smart(20, 15_000), 15_000, 20)).toBe('within');
    expect(judgeClearance(smart(20, 15_001), 15_000, 20)).toBe('over');
    // One truck at 15.3 s is not a verdict on the gate (the wall turned red on it).
    expect(judgeClearance(smart(1, 15_300), 15_000, 20)).toBe('too-few');
    expect(judgeClearance(smart(19, 90_000), 15_000, 20)).toBe('too-few');
    expect(judgeClearance(noClearances, 15_000, 20)).toBe('none');
  });

  it('keeps manual lanes and held trucks out of the smart lanes’ verdict', () => {
    const kpis = kpisOf(
      inputs({
        // What the store gives: smart lanes timed on trucks that passed, holds counted apart; manual lanes with their own figure.
        clearances: { smart: { trucks: 40, p50Ms: 9_000, p95Ms: 13_500, heldTrucks: 3 }, manual: { trucks: 25, p50Ms: 240_000, p95Ms: 600_000, heldTrucks: 1 } },
        lastHour: { ...emptyMeasures, clearanceP95Ms: 600_000 },
      }),
    );
    expect(kpis.clearance).toEqual({
      targetMs: 15_000,
      minTrucks: 20,
      smart: { trucks: 40, p50Ms: 9_000, p95Ms: 13_500, heldTrucks: 3, verdict: 'within' },
      manual: { trucks: 25, p50Ms: 240_000, p95Ms: 600_000, heldTrucks: 1 },
    });
  });

  it('colours the queue by the longest lane queue against the alert rule’s thresholds', () => {
    const thresholds = { queueWarningVehicles: 30, queueCriticalVehicles: 60 };
    expect(judgeQueue(0, thresholds)).toBe('normal');
    expect(judgeQueue(29, thresholds)).toBe('normal');
    expect(judgeQueue(30, thresholds)).toBe('warning');
    expect(judgeQueue(59, thresholds)).toBe('warning');
    expect(judgeQueue(60, thresholds)).toBe('critical');
    const lanesQueuing = (...queues: number[]) =>
      kpisOf(inputs({ laneStates: queues.map((queueLength, i) => ({ site: site.id, lane: site.lanes[i]!.id, stateType: 'lane.opened', stateAt: now - 60_000, queueLength, queueAt: now - 1000 })) }));
    // 48 vehicles over many short queues is no lane's warning; 31 at one lane is.
    expect(lanesQueuing(12, 12, 12, 12)).toMatchObject({ queueLength: 48, queueLongest: 12, queueLevel: 'normal' });
    expect(lanesQueuing(31, 2)).toMatchObject({ queueLength: 33, queueLongest: 31, queueLevel: 'warning' });
    expect(lanesQueuing(61)).toMatchObject({ queueLevel: 'critical' });
  });

  it('counts people through the biometric gates of the sites in scope, exits and entries apart, and never as trucks', () => {
    const bl1 = catalog.site('bac-luan-1')!;
    const people = [
      { site: 'bac-luan-1', lane: 'bl1-biometric-gate-ex-1', direction: 'exit', lastHour: 300, today: 4_000 },
      { site: 'bac-luan-1', lane: 'bl1-biometric-gate-ex-2', direction: 'exit', lastHour: 250, today: 3_900 },
      { site: 'bac-luan-1', lane: 'bl1-biometric-gate-im-1', direction: 'entry', lastHour: 540, today: 7_700 },
    ];
    const atBl1 = kpisOf(inputs({ site: bl1.id, sites: [bl1], people }));
    expect(atBl1.people).toEqual({ lastHour: { exits: 550, entries: 540 }, today: { exits: 7_900, entries: 7_700 } });
    expect(atBl1.lanes.find((l) => l.lane === 'bl1-biometric-gate-ex-2')?.lastHour).toMatchObject({ people: 250, trucksCrossed: 0 });
    expect(atBl1.lastHour.trucksCrossed).toBe(0);
    // Bắc Luân II's tiles count none of them; the zone counts them all.
    expect(kpisOf(inputs({ people })).people).toEqual({ lastHour: { exits: 0, entries: 0 }, today: { exits: 0, entries: 0 } });
    expect(kpisOf(inputs({ site: null, sites: catalog.document.sites, people })).people.lastHour).toEqual({ exits: 550, entries: 540 });
  });

  it('warns when fewer than the configured share of the lanes are open', () => {
    expect(judgeLanesOpen(30, 32, 0.8)).toBe('normal');
    expect(judgeLanesOpen(26, 32, 0.8)).toBe('normal'); // 81 %
    expect(judgeLanesOpen(25, 32, 0.8)).toBe('warning'); // 78 %
    expect(judgeLanesOpen(0, 0, 0.8)).toBe('normal');
    expect(kpisOf(inputs({})).lanesOpenLevel).toBe('warning'); // no lane has said it is open
  });

  it('leaves out the lanes of a site under construction: they are neither lanes without data nor lanes closed', () => {
    const vanNinh = catalog.site('van-ninh')!;
    expect(vanNinh.phase).toBe('construction');
    const kpis = kpisOf(inputs({ site: null, sites: [site, vanNinh], laneStates: site.lanes.map((l) => ({ site: site.id, lane: l.id, stateType: 'lane.opened', stateAt: now - 60_000, queueLength: 0, queueAt: now - 1000 })) }));
    expect(kpis.lanes.map((l) => l.site)).not.toContain('van-ninh');
    expect(kpis).toMatchObject({ lanesOpen: site.lanes.length, lanesTotal: site.lanes.length, lanesOpenLevel: 'normal' });
  });

  it('starts the day at midnight in Vietnam', () => {
    expect(kpisOf(inputs({})).dayStart).toBe(Date.UTC(2026, 10, 22, 17, 0));
  });
});
