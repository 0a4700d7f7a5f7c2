import { describe, expect, it } from 'vitest';
import { journeyView } from '../events/journey-updates.ts';
import type { TruckEvent } from '../events/model.ts';
import { JourneyTracker, crossingWeightOf, journeysOf, noJourneyFigures } from './journeys.ts';

const step = (type: TruckEvent['type'], observedAt: number, extra: Record<string, unknown> = {}) =>
  ({ type, observedAt, site: 'bac-luan-2', plate: '14C-123.45', plateCountry: 'VN', direction: 'export', eventId: 'x', source: 's', ...extra }) as TruckEvent;

describe('journeys', () => {
  it('gives clearance (plate read to gate-out) and turnaround (queue to border line) once each', () => {
    const tracker = new JourneyTracker();
    expect(tracker.apply(step('truck.arrived', 0))).toEqual(noJourneyFigures);
    tracker.apply(step('truck.queue-joined', 10_000, { lane: 'bl2-smart-ex-1' }));
    tracker.apply(step('truck.plate-read', 40_000, { lane: 'bl2-smart-ex-1' }));
    expect(tracker.apply(step('truck.border-crossed', 52_000, { lane: 'bl2-smart-ex-1' }))).toEqual({ ...noJourneyFigures, turnaroundMs: 42_000, crossedWeight: 'none' });
    expect(tracker.apply(step('truck.gate-out', 55_000, { lane: 'bl2-smart-ex-1' }))).toEqual({ ...noJourneyFigures, clearanceMs: 15_000 });
    expect(tracker.size).toBe(0);
    // The next event of the plate starts a new journey with nothing to complete.
    expect(tracker.apply(step('truck.gate-out', 90_000))).toEqual(noJourneyFigures);
  });

  it('cuts a plate history into journeys with their lanes, holds and step times', () => {
    const journeys = journeysOf([
      step('truck.gate-out', 50, { lane: 'bl2-smart-ex-1' }),
      step('truck.arrived', 0),
      step('truck.plate-read', 10, { lane: 'bl2-smart-ex-1' }),
      step('truck.customs-held', 20, { holdReason: 'phytosanitary' }),
      step('truck.arrived', 1000),
      step('truck.weighed', 1010, { lane: 'bl2-weighbridge-ex-1', grossKg: 30_000 }),
    ]);
    expect(journeys).toHaveLength(2);
    expect(journeys[0]).toMatchObject({ complete: true, clearanceMs: 40, holdReasons: ['phytosanitary'], lanes: ['bl2-smart-ex-1'], steps: { arrived: 0, 'plate-read': 10, 'gate-out': 50 } });
    expect(journeys[1]).toMatchObject({ complete: false, grossKg: 30_000, lanes: ['bl2-weighbridge-ex-1'] });
  });

  describe('tonnes of a crossing', () => {
    const crossing = (...steps: TruckEvent[]) => {
      const tracker = new JourneyTracker();
      return steps.map((event) => tracker.apply(event));
    };
    const lane = { lane: 'km34-manual-ex-1' };

    it('the rule: the weighbridge weight when weighed, else the declared weight, never both; neither is 0 kg and unweighed', () => {
      expect(crossingWeightOf({ grossKg: 31_000, declaredGrossKg: 30_000 })).toEqual({ kg: 31_000, source: 'weighbridge' });
      expect(crossingWeightOf({ declaredGrossKg: 30_000 })).toEqual({ kg: 30_000, source: 'declared' });
      expect(crossingWeightOf({ grossKg: 31_000 })).toEqual({ kg: 31_000, source: 'weighbridge' });
      expect(crossingWeightOf({})).toEqual({ kg: 0, source: 'none' });
    });

    it('a truck at a site without a weighbridge counts its declared weight on its crossing, once', () => {
      const figures = crossing(
        step('truck.arrived', 0),
        step('truck.gate-in', 10, { ...lane, declaredGrossKg: 24_500 }),
        step('truck.border-crossed', 20, lane),
        step('truck.border-crossed', 25, lane),
        step('truck.gate-out', 30, lane),
      );
      expect(figures.map((f) => f.crossedKg)).toEqual([0, 0, 24_500, 0, 0]);
      expect(figures.map((f) => f.crossedWeight)).toEqual(['', '', 'declared', '', '']);
      const [journey] = journeysOf([step('truck.gate-in', 10, { ...lane, declaredGrossKg: 24_500 })]);
      expect(journeyView(journey!)).toMatchObject({ grossKg: null, declaredGrossKg: 24_500 });
    });

    it('a weighed truck with a declared weight counts the weighbridge weight only, whichever came first', () => {
      const weighed = step('truck.weighed', 10, { lane: 'bl2-weighbridge-ex-1', grossKg: 31_200 });
      const gateIn = step('truck.gate-in', 20, { lane: 'bl2-smart-ex-1', declaredGrossKg: 30_000 });
      for (const order of [[weighed, gateIn], [gateIn, weighed]]) {
        const figures = crossing(step('truck.arrived', 0), ...order, step('truck.border-crossed', 30, { lane: 'bl2-smart-ex-1' }));
        expect(figures.reduce((kg, f) => kg + f.crossedKg, 0)).toBe(31_200);
        expect(figures.at(-1)?.crossedWeight).toBe('weighbridge');
      }
    });

    it('a crossing with neither weight adds 0 kg and says so; the next journey of the plate starts afresh', () => {
      const figures = crossing(
        step('truck.arrived', 0),
        step('truck.border-crossed', 10, lane),
        step('truck.gate-out', 20, lane),
        step('truck.arrived', 100),
        step('truck.gate-in', 110, { ...lane, declaredGrossKg: 18_000 }),
        step('truck.border-crossed', 120, lane),
      );
      expect(figures.filter((f) => f.crossedWeight !== '').map((f) => [f.crossedWeight, f.crossedKg])).toEqual([['none', 0], ['declared', 18_000]]);
    });
  });
});
