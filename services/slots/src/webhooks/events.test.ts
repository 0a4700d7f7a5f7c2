import { describe, expect, it } from 'vitest';
import type { LaneGroupConditions, SlotAvailability, SlotBooking } from '@tower/shared';
import { conditionsEventOf } from './conditions.ts';
import { deliveriesOf, windowEventOf } from './fan-out.ts';
import type { StoredEndpoint } from './store.ts';

const windowStart = Date.UTC(2026, 10, 30, 14, 0); // 21:00 in Vietnam
const window: SlotAvailability = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, windowEnd: windowStart + 1_800_000, capacity: 3, held: 1, booked: 1, free: 1, closed: false, version: 7 };
const booking = (firm: string, plate: string): SlotBooking => ({
  id: `bk_${'0'.repeat(18)}${plate.slice(-2)}`,
  firm,
  plate,
  cargoClass: 'farm-produce',
  site: 'bac-luan-2',
  laneKind: 'smart',
  direction: 'export',
  windowStart,
  windowEnd: windowStart + 1_800_000,
  state: 'held',
  heldUntil: windowStart - 3_600_000,
  createdAt: windowStart - 3_900_000,
  updatedAt: windowStart - 3_900_000,
  arrivedAt: null,
  cancelledBy: null,
});

describe('webhook events: ids and bodies', () => {
  it('a window event is one per change of the window and firm, in Vietnam time, with previousCapacity only for a cut', () => {
    const previous = { closed: false, capacity: 45, version: 3 };
    const cut = windowEventOf('window.capacity-cut', window, previous, 'haiha-logistics', [booking('haiha-logistics', '14C-611.01')], windowStart - 7_200_000);
    expect(cut).toMatchObject({ type: 'window.capacity-cut', occurredAt: '2026-11-30T19:00:00+07:00', previousCapacity: 45, window: { windowStartIso: '2026-11-30T21:00:00+07:00', capacity: 3 } });
    expect(cut.bookings).toEqual([expect.objectContaining({ plate: '14C-611.01', windowStartIso: '2026-11-30T21:00:00+07:00' })]);
    // Read again later (Kafka giving the change again): the same id, so it is queued once.
    expect(windowEventOf('window.capacity-cut', window, previous, 'haiha-logistics', [], windowStart).id).toBe(cut.id);
    // Another firm, another change of the window, another type: each its own event.
    const ids = [
      windowEventOf('window.capacity-cut', window, previous, 'donghung-trade', [], windowStart).id,
      windowEventOf('window.capacity-cut', { ...window, version: 8 }, previous, 'haiha-logistics', [], windowStart).id,
      windowEventOf('window.closed', window, previous, 'haiha-logistics', [], windowStart).id,
    ];
    expect(new Set([cut.id, ...ids]).size).toBe(4);
    expect(windowEventOf('window.closed', window, previous, 'haiha-logistics', [], windowStart)).not.toHaveProperty('previousCapacity');
  });

  it('a conditions crossing is one per group and level count, whichever view showed it', () => {
    const group = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', level: 'busy', asOf: windowStart, asOfIso: '2026-11-30T21:00:00+07:00' } as LaneGroupConditions;
    const thresholds = { busyWaitMinutes: 20, congestedWaitMinutes: 45, busyQueueVehicles: 10, congestedQueueVehicles: 20, minTrucksPerHour: 6 };
    const from = { level: 'normal' as const, version: 4 };
    const event = conditionsEventOf(group, from, thresholds);
    expect(event).toMatchObject({ type: 'conditions.threshold-crossed', from: 'normal', to: 'busy', occurredAt: group.asOfIso, thresholds });
    expect(conditionsEventOf({ ...group, asOf: windowStart + 5000, asOfIso: '2026-11-30T21:00:05+07:00' }, from, thresholds).id).toBe(event.id);
    expect(conditionsEventOf(group, { ...from, version: 5 }, thresholds).id).not.toBe(event.id);
    expect(conditionsEventOf({ ...group, laneKind: 'manual' }, from, thresholds).id).not.toBe(event.id);
  });

  it('one delivery per endpoint, each of its endpoint and firm, the same body', () => {
    const endpoint = (id: string, firm: string) => ({ id, firm }) as StoredEndpoint;
    const event = windowEventOf('window.closed', window, { closed: false, capacity: 3, version: 6 }, 'haiha-logistics', [], windowStart);
    const deliveries = deliveriesOf(event, [endpoint('wh_a', 'haiha-logistics'), endpoint('wh_b', 'haiha-logistics')], 'window:x', 1);
    expect(deliveries.map((d) => [d.endpointId, d.firm, d.orderKey, d.eventId, d.type])).toEqual([
      ['wh_a', 'haiha-logistics', 'window:x', event.id, 'window.closed'],
      ['wh_b', 'haiha-logistics', 'window:x', event.id, 'window.closed'],
    ]);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(2);
    expect(JSON.parse(deliveries[0]?.body ?? '{}')).toEqual(JSON.parse(JSON.stringify(event)));
  });
});
