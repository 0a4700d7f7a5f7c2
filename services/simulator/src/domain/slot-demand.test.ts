import { describe, expect, it } from 'vitest';
import { loadCatalog, roundTheClockPlan, type TruckEvent } from '@tower/shared';
import { SlotDemand } from './slot-demand.ts';
import { TrafficSimulation } from './traffic.ts';

const windowMs = 30 * 60_000;

describe('slot demand of the simulated firms', () => {
  const catalog = loadCatalog();
  const plan = roundTheClockPlan(catalog.document);
  const start = Date.UTC(2026, 10, 23, 0, 0);
  const events = new TrafficSimulation(catalog, { seed: 5, rate: 5, start }).advanceTo(start + 6 * 3_600_000);
  const arrivals = events.filter((e): e is TruckEvent => e.type === 'truck.arrived');

  it('books the arrival window of about the share of arriving trucks, on a bookable lane group of their site and direction', () => {
    const planned = new SlotDemand(plan, { share: 0.3, windowMs, seed: 5 }).plan(events);
    expect(arrivals.length).toBeGreaterThan(200);
    expect(planned.length / arrivals.length).toBeGreaterThan(0.2);
    expect(planned.length / arrivals.length).toBeLessThan(0.4);
    const byKey = new Map(arrivals.map((a) => [`sim-${a.eventId}`, a]));
    let sameWindow = 0;
    for (const booking of planned) {
      const arrival = byKey.get(booking.idempotencyKey)!;
      expect(booking).toMatchObject({ site: arrival.site, direction: arrival.direction, plate: arrival.plate });
      expect(plan.weekly[`${booking.site}|${booking.laneKind}|${booking.direction}`]).toBeDefined();
      expect(booking.windowStart % windowMs).toBe(0);
      const offset = booking.windowStart - Math.floor(arrival.observedAt / windowMs) * windowMs;
      expect([0, windowMs, 3 * windowMs]).toContain(offset);
      if (offset === 0) sameWindow += 1;
    }
    expect(sameWindow / planned.length).toBeGreaterThan(0.6);
    expect(planned.some((b) => !b.confirm)).toBe(true);
    // Bookable kinds are preferred: the smart lanes at Bắc Luân II, the port gate at Vạn Ninh.
    expect(new Set(planned.filter((b) => b.site === 'bac-luan-2').map((b) => b.laneKind))).toEqual(new Set(['smart']));
  });

  it('is the same for the same seed, and nothing with a share of 0', () => {
    expect(new SlotDemand(plan, { share: 0.3, windowMs, seed: 5 }).plan(events)).toEqual(new SlotDemand(plan, { share: 0.3, windowMs, seed: 5 }).plan(events));
    expect(new SlotDemand(plan, { share: 0, windowMs, seed: 5 }).plan(events)).toEqual([]);
  });
});
