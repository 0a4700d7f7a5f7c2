import { describe, expect, it } from 'vitest';
import type { Booking } from './api.ts';
import { actionsOf, countdown, filterBookings, mergeBookings, nextDays, shortVietnamTime } from './model.ts';

const hour = 3_600_000;
const windowStart = Date.parse('2026-12-02T10:00:00+07:00');
const booking = (fields: Partial<Booking>): Booking =>
  ({ id: 'bk_1', firm: 'haiha-logistics', plate: '14C-271.01', cargoClass: 'farm-produce', site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, windowEnd: windowStart + hour / 2, state: 'confirmed', heldUntil: windowStart - 10 * hour, createdAt: 0, updatedAt: 1, arrivedAt: null, cancelledBy: null, ...fields }) as Booking;

describe('the booking page’s model', () => {
  it('lists the days from today in Vietnam, each from midnight to midnight +07:00', () => {
    // 17:30 UTC on 30 November is 00:30 on 1 December in Vietnam.
    expect(nextDays(Date.parse('2026-11-30T17:30:00Z'), 2)).toEqual([
      { date: '2026-12-01', from: '2026-12-01T00:00:00+07:00', to: '2026-12-02T00:00:00+07:00' },
      { date: '2026-12-02', from: '2026-12-02T00:00:00+07:00', to: '2026-12-03T00:00:00+07:00' },
    ]);
  });

  it('says an instant as a day and time in Vietnam', () => {
    expect(shortVietnamTime(Date.parse('2026-12-01T20:30:00Z'))).toBe('02/12 03:30');
  });

  it('counts a hold down in minutes and seconds, never below zero', () => {
    expect(countdown(300_000)).toBe('5:00');
    expect(countdown(299_001)).toBe('5:00');
    expect(countdown(299_000)).toBe('4:59');
    expect(countdown(7_000)).toBe('0:07');
    expect(countdown(-5_000)).toBe('0:00');
  });

  it('offers confirm while the hold runs, and cancel as docs/slots.md allows a firm: a hold, or a confirmed booking before the cut-off', () => {
    const cutoff = 2 * hour;
    const held = booking({ state: 'held', heldUntil: windowStart - 5 * hour });
    expect(actionsOf(held, windowStart - 6 * hour, cutoff)).toEqual({ confirm: true, cancel: true });
    expect(actionsOf(held, windowStart - 5 * hour, cutoff), 'the hold ran out').toEqual({ confirm: false, cancel: false });
    expect(actionsOf(booking({}), windowStart - cutoff, cutoff)).toEqual({ confirm: false, cancel: true });
    expect(actionsOf(booking({}), windowStart - cutoff + 1, cutoff), 'past the cut-off').toEqual({ confirm: false, cancel: false });
    for (const state of ['checked-in', 'late', 'completed', 'cancelled', 'expired', 'no-show'] as const) expect(actionsOf(booking({ state }), 0, cutoff), state).toEqual({ confirm: false, cancel: false });
  });

  it('filters by state (current ones by default) and by plate however it is written, soonest first', () => {
    const list = [booking({ id: 'bk_b', windowStart: windowStart + hour }), booking({ id: 'bk_a' }), booking({ id: 'bk_c', state: 'cancelled' }), booking({ id: 'bk_d', plate: '29H-111.22' })];
    expect(filterBookings(list, { state: 'active', plate: '' }).map((b) => b.id)).toEqual(['bk_a', 'bk_d', 'bk_b']);
    expect(filterBookings(list, { state: 'cancelled', plate: '' }).map((b) => b.id)).toEqual(['bk_c']);
    expect(filterBookings(list, { state: 'all', plate: '14c27101' }).map((b) => b.id)).toEqual(['bk_a', 'bk_c', 'bk_b']);
  });

  it('keeps the newer of two answers about one booking', () => {
    const known = new Map([['bk_1', booking({ state: 'cancelled', updatedAt: 5 })]]);
    expect(mergeBookings(known, [booking({ state: 'confirmed', updatedAt: 4 })]).get('bk_1')?.state).toBe('cancelled');
    expect(mergeBookings(known, [booking({ state: 'no-show', updatedAt: 6 })]).get('bk_1')?.state).toBe('no-show');
  });
});
