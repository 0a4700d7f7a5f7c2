import fc from 'fast-check';
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

  describe('one plate at two sites at once (a cloned plate, a misread, a device that sends late)', () => {
    // Each site's devices deliver in their own order; Kafka keeps one plate's events on one
    // partition, but how two sites' deliveries interleave there is not fixed.
    /** A whole journey through a manual lane, its steps 100 ms apart from `at`. */
    const truckAt = (site: string, lane: string, at: number, declaredGrossKg: number) =>
      (['truck.arrived', 'truck.queue-joined', 'truck.plate-read', 'truck.gate-in', 'truck.border-crossed', 'truck.gate-out'] as const).map((type, i) =>
        step(type, at + i * 100, { site, ...(i > 0 ? { lane } : {}), ...(type === 'truck.gate-in' ? { declaredGrossKg } : {}) }),
      );
    const atPoHen = truckAt('po-hen', 'ph-manual-ex-1', 0, 28_175);
    const atBacPhongSinh = truckAt('bac-phong-sinh', 'bps-manual-ex-1', 50, 13_939);
    const figuresAlone = (events: TruckEvent[]) => {
      const tracker = new JourneyTracker();
      return events.map((event) => [event, tracker.apply(event)] as const);
    };
    const alone = new Map([...figuresAlone(atPoHen), ...figuresAlone(atBacPhongSinh)]);
    /** Every merge of the two sites' sequences that keeps each site's own order. */
    const interleaving = fc.array(fc.boolean(), { minLength: atPoHen.length + atBacPhongSinh.length, maxLength: atPoHen.length + atBacPhongSinh.length }).map((picks) => {
      const [a, b] = [[...atPoHen], [...atBacPhongSinh]];
      return picks.map((first) => ((first && a.length > 0) || b.length === 0 ? a.shift()! : b.shift()!));
    });

    it('each crossing gets the figures (tonnes, clearance, turnaround) it gets alone, however the two sites interleave', () => {
      fc.assert(
        fc.property(interleaving, (events) => {
          const tracker = new JourneyTracker();
          for (const event of events) expect(tracker.apply(event), `${event.site} ${event.type}`).toEqual(alone.get(event));
        }),
      );
      expect(alone.get(atPoHen[4]!)).toMatchObject({ crossedKg: 28_175, crossedWeight: 'declared', turnaroundMs: 300 });
    });

    it('the history cuts the same two journeys, each whole', () => {
      fc.assert(
        fc.property(interleaving, (events) => {
          const journeys = journeysOf(events);
          expect(journeys.map((j) => [j.site, j.complete, j.declaredGrossKg, j.clearanceMs, Object.keys(j.steps).length])).toEqual([
            ['po-hen', true, 28_175, 300, 6],
            ['bac-phong-sinh', true, 13_939, 300, 6],
          ]);
        }),
      );
    });
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
