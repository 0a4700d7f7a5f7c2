import { describe, expect, it } from 'vitest';
import type { TruckEvent } from '../events/model.ts';
import { JourneyTracker, journeysOf } from './journeys.ts';

const step = (type: TruckEvent['type'], observedAt: number, extra: Record<string, unknown> = {}) =>
  ({ type, observedAt, site: 'bac-luan-2', plate: '14C-123.45', plateCountry: 'VN', direction: 'export', eventId: 'x', source: 's', ...extra }) as TruckEvent;

describe('journeys', () => {
  it('gives clearance (plate read to gate-out) and turnaround (queue to border line) once each', () => {
    const tracker = new JourneyTracker();
    expect(tracker.apply(step('truck.arrived', 0))).toEqual({ clearanceMs: 0, turnaroundMs: 0 });
    tracker.apply(step('truck.queue-joined', 10_000, { lane: 'bl2-smart-ex-1' }));
    tracker.apply(step('truck.plate-read', 40_000, { lane: 'bl2-smart-ex-1' }));
    expect(tracker.apply(step('truck.border-crossed', 52_000, { lane: 'bl2-smart-ex-1' }))).toEqual({ clearanceMs: 0, turnaroundMs: 42_000 });
    expect(tracker.apply(step('truck.gate-out', 55_000, { lane: 'bl2-smart-ex-1' }))).toEqual({ clearanceMs: 15_000, turnaroundMs: 0 });
    expect(tracker.size).toBe(0);
    // The next event of the plate starts a new journey with nothing to complete.
    expect(tracker.apply(step('truck.gate-out', 90_000))).toEqual({ clearanceMs: 0, turnaroundMs: 0 });
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
});
