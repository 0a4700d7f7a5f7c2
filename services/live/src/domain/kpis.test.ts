import { describe, expect, it } from 'vitest';
import { emptyMeasures, loadCatalog } from '@tower/shared';
import { kpisOf, type KpiInputs } from './kpis.ts';

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
  clearanceTargetMs: 15_000,
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

  it('judges the clearance p95 against the target, and says nothing without clearances', () => {
    expect(kpisOf(inputs({ lastHour: { ...emptyMeasures, clearanceP95Ms: 14_000 } })).clearance).toEqual({ targetMs: 15_000, p95Ms: 14_000, withinTarget: true });
    expect(kpisOf(inputs({ lastHour: { ...emptyMeasures, clearanceP95Ms: 15_001 } })).clearance.withinTarget).toBe(false);
    expect(kpisOf(inputs({})).clearance.withinTarget).toBeNull();
  });

  it('starts the day at midnight in Vietnam', () => {
    expect(kpisOf(inputs({})).dayStart).toBe(Date.UTC(2026, 10, 22, 17, 0));
  });
});
