import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { directions } from '../catalog/schema.ts';
import { jsonMessageDecoder } from './json-messages.ts';
import { cargoClasses, chinesePlatePattern, vietnamesePlatePattern } from './model.ts';

/**
 * Crossing slots as they travel: the booking a firm sees in the API, the changes on
 * `tower.slots.v1` and the rows of the `slot_bookings` history are one schema, declared
 * here, so the slots service, the live gateway and the history agree by construction.
 */
export const bookingStates = ['held', 'confirmed', 'checked-in', 'late', 'completed', 'cancelled', 'expired', 'no-show'] as const;
export type BookingState = (typeof bookingStates)[number];

export const epochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000, description });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A closed set of strings (a union of literals, so the message decoder can compile it). */
export const oneOf = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { description }) as unknown as TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }>;

export const bookingIdPattern = '^bk_[0-9a-f]{20}$';
export const firmIdPattern = '^[a-z0-9-]{2,40}$';

/** A truck plate as firms write it: Vietnamese (`14C-123.45`) or Chinese (`桂A12345`). */
export const BookingPlate = Type.String({
  minLength: 5,
  maxLength: 16,
  pattern: `(${vietnamesePlatePattern})|(${chinesePlatePattern})`,
  description: 'the truck that will cross: a Vietnamese (14C-123.45) or Chinese (桂A12345) plate, as the ANPR cameras read it',
});

export const SlotBooking = Type.Object(
  {
    id: Type.String({ pattern: bookingIdPattern, description: 'derived from the firm and the Idempotency-Key of the request that made it' }),
    firm: Type.String({ pattern: firmIdPattern }),
    plate: BookingPlate,
    cargoClass: oneOf(cargoClasses, 'cargo class'),
    site: Type.String({ description: 'site id from the catalog' }),
    laneKind: Type.String({ description: 'lane kind of the lane group (smart, igv, manual, port-gate)' }),
    direction: oneOf(directions, 'export (VN → CN) or import'),
    windowStart: epochMs('start of the slot window, ms since the epoch'),
    windowEnd: epochMs('end (exclusive) of the slot window'),
    state: oneOf(bookingStates, 'held → confirmed → checked-in / late → completed; or cancelled, expired, no-show'),
    heldUntil: epochMs('a hold not confirmed by then expires'),
    createdAt: epochMs('when the hold was made'),
    updatedAt: epochMs('when the state last changed'),
    arrivedAt: nullable(epochMs('when the truck arrived at the site (check-in or late)')),
    cancelledBy: nullable(oneOf(['firm', 'operator'] as const, 'who cancelled')),
  },
  { title: 'Booking', additionalProperties: false },
);
export type SlotBooking = Static<typeof SlotBooking>;

/** One window's places after a change, as the public `slots` feed shows them. */
export const SlotAvailability = Type.Object(
  {
    site: Type.String(),
    laneKind: Type.String(),
    direction: oneOf(directions, 'export or import'),
    windowStart: epochMs('start of the window'),
    windowEnd: epochMs('end (exclusive) of the window'),
    capacity: Type.Integer({ minimum: 0, description: 'places: open lanes × nominal rate × window, or as an operator set it' }),
    held: Type.Integer({ minimum: 0, description: 'places on hold, not yet confirmed' }),
    booked: Type.Integer({ minimum: 0, description: 'places confirmed (or used: checked in, late, completed, no-show)' }),
    free: Type.Integer({ minimum: 0, description: 'places a firm can still hold (0 when closed)' }),
    closed: Type.Boolean({ description: 'closed by an operator: nothing can be held' }),
    version: Type.Integer({ minimum: 0, description: 'grows with every change of the window; newer wins' }),
  },
  { title: 'SlotAvailability', additionalProperties: false },
);
export type SlotAvailability = Static<typeof SlotAvailability>;

/** A message on `tower.slots.v1`: a booking's new state (key: booking id) or a window's places (key: window). */
export const SlotMessage = Type.Union(
  [
    Type.Object({ kind: Type.Literal('booking'), booking: SlotBooking }, { additionalProperties: false }),
    Type.Object({ kind: Type.Literal('availability'), availability: SlotAvailability }, { additionalProperties: false }),
  ],
  { title: 'SlotMessage' },
);
export type SlotMessage = Static<typeof SlotMessage>;

export const decodeSlotMessage = jsonMessageDecoder(SlotMessage, 'a slot change');

/** The Kafka key of a window's availability: its lane group and start. */
export const slotWindowKey = (w: Pick<SlotAvailability, 'site' | 'laneKind' | 'direction' | 'windowStart'>) => `${w.site}|${w.laneKind}|${w.direction}|${w.windowStart}`;
