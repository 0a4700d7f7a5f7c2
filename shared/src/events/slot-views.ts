import { Type, type Static } from '@sinclair/typebox';
import { VietnamTime, vietnamIso } from '../domain/vietnam-time.ts';
import { SlotBooking } from './slot-changes.ts';

/**
 * A booking as firms read it (the slots API, the live `bookings` channel): the booking
 * of `tower.slots.v1` and every epoch-ms time also as ISO 8601 in Vietnam time, under the
 * same name with `Iso` after it (`windowStart` → `windowStartIso`).
 */
export const SlotBookingView = Type.Object(
  {
    ...SlotBooking.properties,
    windowStartIso: VietnamTime('start of the slot window'),
    windowEndIso: VietnamTime('end (exclusive) of the slot window'),
    heldUntilIso: VietnamTime('a hold not confirmed by then expires'),
    createdAtIso: VietnamTime('when the hold was made'),
    updatedAtIso: VietnamTime('when the state last changed'),
    arrivedAtIso: Type.Union([VietnamTime('when the truck arrived at the site'), Type.Null()]),
  },
  { title: 'Booking', additionalProperties: false },
);
export type SlotBookingView = Static<typeof SlotBookingView>;

export function bookingView(booking: SlotBooking): SlotBookingView {
  return {
    ...booking,
    windowStartIso: vietnamIso(booking.windowStart),
    windowEndIso: vietnamIso(booking.windowEnd),
    heldUntilIso: vietnamIso(booking.heldUntil),
    createdAtIso: vietnamIso(booking.createdAt),
    updatedAtIso: vietnamIso(booking.updatedAt),
    arrivedAtIso: booking.arrivedAt === null ? null : vietnamIso(booking.arrivedAt),
  };
}
