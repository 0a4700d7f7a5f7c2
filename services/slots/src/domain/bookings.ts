/**
 * The crossing-slot booking lifecycle, as plain data and one pure function: the Redis
 * store runs the same rules atomically (a Lua script), the property test checks both
 * against a reference model. Times are ms since the epoch.
 *
 *   held ──confirm──▶ confirmed ──arrive (within tolerance)──▶ checked-in ──cross──▶ completed
 *     │                  │   └──arrive (outside tolerance)──▶ late ──────cross──▶ completed
 *     │ expire           │ window end + tolerance + late grace passed, no arrival ──▶ no-show
 *     ▼                  │
 *   expired            cancel (firm: before the cut-off; operator: any time) ──▶ cancelled
 */
import type { BookingState, SlotBooking } from '@tower/shared';

export type { BookingState };

/** States that hold a place in the window (everything but cancelled and expired). */
export const placeHolding: ReadonlySet<BookingState> = new Set(['held', 'confirmed', 'checked-in', 'late', 'completed', 'no-show']);
export const terminal: ReadonlySet<BookingState> = new Set(['completed', 'cancelled', 'expired', 'no-show']);

export interface SlotRules {
  /** How long a hold lasts unless confirmed. */
  holdMs: number;
  /** An arrival this far before the window's start or after its end still checks in. */
  toleranceMs: number;
  /**
   * After the tolerance, an arriving truck is still recorded, flagged `late`, for this
   * long; only then is a booking with no arrival a no-show.
   */
  lateGraceMs: number;
  /** Firms cannot cancel later than this before the window's start. */
  cancelCutoffMs: number;
}

export const defaultSlotRules: SlotRules = { holdMs: 5 * 60_000, toleranceMs: 30 * 60_000, lateGraceMs: 2 * 3600_000, cancelCutoffMs: 2 * 3600_000 };

/** The booking as the API, the feed and the history show it (schema in @tower/shared). */
export type Booking = SlotBooking;

export type BookingAction =
  | { type: 'confirm'; at: number }
  | { type: 'cancel'; at: number; by: 'firm' | 'operator' }
  | { type: 'arrive'; at: number }
  | { type: 'cross'; at: number }
  /** Time passed: holds expire, confirmed bookings whose window, tolerance and late grace passed become no-shows. */
  | { type: 'tick'; at: number };

/** Why an action is refused; the API maps each to a 409/422 problem naming it. */
export type BookingRefusal = 'not-held' | 'hold-expired' | 'not-cancellable' | 'past-cancel-cutoff' | 'not-expected' | 'not-arrived';

export type Transition = { ok: true; booking: Booking; changed: boolean } | { ok: false; refusal: BookingRefusal; booking: Booking };

/**
 * One action on one booking. Time first: an action at `at` sees the booking as time has
 * made it (a hold past its end has expired; a confirmed booking past its window and
 * tolerance is a no-show), then the action applies.
 */
export function applyBookingAction(current: Booking, action: BookingAction, rules: SlotRules): Transition {
  const booking = elapse(current, action.at, rules);
  const to = (state: BookingState, extra: Partial<Booking> = {}): Transition => ({ ok: true, changed: true, booking: { ...booking, ...extra, state, updatedAt: action.at } });
  const refuse = (refusal: BookingRefusal): Transition => ({ ok: false, refusal, booking });
  switch (action.type) {
    case 'tick':
      return { ok: true, booking, changed: booking !== current };
    case 'confirm':
      if (booking.state === 'expired') return refuse('hold-expired');
      if (booking.state !== 'held') return refuse('not-held');
      return to('confirmed');
    case 'cancel':
      if (booking.state !== 'held' && booking.state !== 'confirmed') return refuse('not-cancellable');
      if (action.by === 'firm' && booking.state === 'confirmed' && action.at > booking.windowStart - rules.cancelCutoffMs) return refuse('past-cancel-cutoff');
      return to('cancelled', { cancelledBy: action.by });
    case 'arrive': {
      if (booking.state !== 'confirmed') return refuse('not-expected');
      const onTime = action.at >= booking.windowStart - rules.toleranceMs && action.at <= booking.windowEnd + rules.toleranceMs;
      return to(onTime ? 'checked-in' : 'late', { arrivedAt: action.at });
    }
    case 'cross':
      if (booking.state !== 'checked-in' && booking.state !== 'late') return refuse('not-arrived');
      return to('completed');
  }
}

/** When a confirmed booking with no arrival becomes a no-show (strictly after this instant). */
export const noShowAt = (booking: Pick<Booking, 'windowEnd'>, rules: SlotRules) => booking.windowEnd + rules.toleranceMs + rules.lateGraceMs;

/** What time alone does to a booking at `at`. */
export function elapse(booking: Booking, at: number, rules: SlotRules): Booking {
  if (booking.state === 'held' && at >= booking.heldUntil) return { ...booking, state: 'expired', updatedAt: booking.heldUntil };
  if (booking.state === 'confirmed' && at > noShowAt(booking, rules)) return { ...booking, state: 'no-show', updatedAt: noShowAt(booking, rules) };
  return booking;
}
