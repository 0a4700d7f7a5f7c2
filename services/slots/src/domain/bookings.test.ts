import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookingStates } from '@tower/shared';
import { applyBookingAction, defaultSlotRules, terminal, type Booking, type BookingAction, type BookingState } from './bookings.ts';

const minute = 60_000;
const rules = defaultSlotRules; // hold 5 min, tolerance 30 min, late grace 2 h, cancel cut-off 2 h
const windowStart = 1000 * minute;
const held = (overrides: Partial<Booking> = {}): Booking => ({
  id: 'b1',
  firm: 'firm-a',
  plate: '14C-123.45',
  cargoClass: 'farm-produce',
  site: 'bac-luan-2',
  laneKind: 'smart',
  direction: 'export',
  windowStart,
  windowEnd: windowStart + 30 * minute,
  state: 'held',
  heldUntil: windowStart - 300 * minute + 5 * minute,
  createdAt: windowStart - 300 * minute,
  updatedAt: windowStart - 300 * minute,
  arrivedAt: null,
  cancelledBy: null,
  ...overrides,
});
const run = (booking: Booking, ...actions: BookingAction[]) => actions.reduce((b, action) => applyBookingAction(b, action, rules).booking, booking);
const t0 = windowStart - 300 * minute;

describe('booking lifecycle', () => {
  it('held → confirmed → checked in (within the tolerance) → completed', () => {
    const confirmed = applyBookingAction(held(), { type: 'confirm', at: t0 + minute }, rules);
    expect(confirmed).toMatchObject({ ok: true, booking: { state: 'confirmed' } });
    const arrived = run(confirmed.booking, { type: 'arrive', at: windowStart - 20 * minute });
    expect(arrived).toMatchObject({ state: 'checked-in', arrivedAt: windowStart - 20 * minute });
    expect(run(arrived, { type: 'cross', at: windowStart })).toMatchObject({ state: 'completed' });
  });

  it('a hold not confirmed in time expires, and confirming it then is refused by name', () => {
    const late = applyBookingAction(held(), { type: 'confirm', at: t0 + 5 * minute }, rules);
    expect(late).toMatchObject({ ok: false, refusal: 'hold-expired', booking: { state: 'expired', updatedAt: t0 + 5 * minute } });
  });

  it('an arrival outside the tolerance is flagged late, not checked in; no arrival is a no-show once the late grace has passed', () => {
    const confirmed = run(held(), { type: 'confirm', at: t0 });
    expect(run(confirmed, { type: 'arrive', at: windowStart - 31 * minute })).toMatchObject({ state: 'late' });
    expect(run(confirmed, { type: 'arrive', at: windowStart + 60 * minute })).toMatchObject({ state: 'checked-in' });
    expect(run(confirmed, { type: 'arrive', at: windowStart + 60 * minute + 1 })).toMatchObject({ state: 'late', arrivedAt: windowStart + 60 * minute + 1 });
    expect(run(confirmed, { type: 'tick', at: windowStart + 180 * minute })).toMatchObject({ state: 'confirmed' });
    expect(run(confirmed, { type: 'tick', at: windowStart + 180 * minute + 1 })).toMatchObject({ state: 'no-show', updatedAt: windowStart + 180 * minute });
    expect(applyBookingAction(confirmed, { type: 'arrive', at: windowStart + 181 * minute }, rules)).toMatchObject({ ok: false, refusal: 'not-expected', booking: { state: 'no-show' } });
  });

  it('firms cancel until the cut-off, operators at any time', () => {
    const confirmed = run(held(), { type: 'confirm', at: t0 });
    expect(applyBookingAction(confirmed, { type: 'cancel', at: windowStart - 121 * minute, by: 'firm' }, rules)).toMatchObject({ ok: true, booking: { state: 'cancelled', cancelledBy: 'firm' } });
    expect(applyBookingAction(confirmed, { type: 'cancel', at: windowStart - 119 * minute, by: 'firm' }, rules)).toMatchObject({ ok: false, refusal: 'past-cancel-cutoff' });
    expect(applyBookingAction(confirmed, { type: 'cancel', at: windowStart + minute, by: 'operator' }, rules)).toMatchObject({ ok: true, booking: { state: 'cancelled', cancelledBy: 'operator' } });
  });

  /**
   * Against a reference written independently: the allowed edges of the lifecycle as a
   * table, and the time rules. Any action at any time on any state either follows an
   * edge of the table (or is refused and changes nothing but what time did), and a
   * terminal state never changes.
   */
  it('follows only the edges of the lifecycle, whatever the actions and times (property)', { timeout: 120_000 }, () => {
    const edges: Record<BookingState, readonly BookingState[]> = {
      held: ['confirmed', 'cancelled', 'expired'],
      confirmed: ['checked-in', 'late', 'cancelled', 'no-show'],
      'checked-in': ['completed'],
      late: ['completed'],
      completed: [],
      cancelled: [],
      expired: [],
      'no-show': [],
    };
    const action = fc.oneof(
      fc.record({ type: fc.constant('confirm' as const), dt: fc.integer({ min: 0, max: 20 * minute }) }),
      fc.record({ type: fc.constant('cancel' as const), dt: fc.integer({ min: 0, max: 90 * minute }), by: fc.constantFrom('firm' as const, 'operator' as const) }),
      fc.record({ type: fc.constantFrom('arrive' as const, 'cross' as const, 'tick' as const), dt: fc.integer({ min: 0, max: 180 * minute }) }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 12 }), (actions) => {
        let booking = held();
        let at = t0;
        for (const { dt, ...rest } of actions) {
          at += dt;
          const before = booking.state;
          const result = applyBookingAction(booking, { ...rest, at } as BookingAction, rules);
          const after = result.booking.state;
          if (terminal.has(before)) expect(after).toBe(before);
          else if (after !== before) expect(edges[before], `${before} → ${after}`).toContain(after);
          // Time's own rules, checked independently of the implementation.
          if (before === 'held' && at >= booking.heldUntil) expect(after === 'expired').toBe(true);
          if (before === 'confirmed' && at > booking.windowEnd + rules.toleranceMs + rules.lateGraceMs) expect(after).toBe('no-show');
          if (result.ok && rest.type === 'arrive') expect(after).toBe(Math.abs(at - (booking.windowStart + booking.windowEnd) / 2) <= (booking.windowEnd - booking.windowStart) / 2 + rules.toleranceMs ? 'checked-in' : 'late');
          expect(bookingStates).toContain(after);
          booking = result.booking;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
