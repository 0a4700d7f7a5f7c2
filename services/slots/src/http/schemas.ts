import { Type, type Static } from '@sinclair/typebox';
import { bookableLaneKinds, bookingIdPattern, BookingPlate, bookingStates, cargoClasses, directions, firmIdPattern, SlotAvailability, SlotBooking, type SiteCatalog } from '@tower/shared';

/**
 * Request and response schemas of the slots API, declared once: fastify validates
 * requests and serialises responses with them, and /docs is built from them. Site ids
 * are an enum of the catalog, so a wrong one is a 400 that lists the right ones.
 */
const epochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000, description });
const oneOf = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], description });

export const Places = Type.Omit(SlotAvailability, ['site', 'version'], { title: 'WindowPlaces' });

export const FirmRecordView = Type.Object(
  {
    firm: Type.String({ pattern: firmIdPattern }),
    decided: Type.Integer({ description: 'bookings whose window passed with an outcome: arrived or no-show' }),
    noShows: Type.Integer(),
    noShowRate: Type.Number({ description: 'noShows / decided (0 with none decided)' }),
    capPerWindow: Type.Integer({ description: 'places this firm may hold in one window now (tightened while its no-show rate is high)' }),
  },
  { title: 'FirmRecord' },
);
export type FirmRecordView = Static<typeof FirmRecordView>;

export function slotSchemas(catalog: SiteCatalog, limits: { maxRangeMs: number; maxBookings: number }) {
  const siteIds = catalog.document.sites.map((s) => s.id);
  const site = oneOf(siteIds, 'site id from the catalog (GET /v1/catalog on the ingest API, or the operators’ /v1/sites)');
  const laneKind = oneOf([...bookableLaneKinds], 'lane kind of the lane group: smart, igv (automated guided vehicles), manual or port-gate; which ones a site has is in its lanes');
  const direction = oneOf(directions, 'export (Vietnam → China) or import');
  const days = Math.round(limits.maxRangeMs / 86_400_000);

  const WindowSelector = Type.Object({ site, laneKind, direction, windowStart: epochMs('start of the window, ms since the epoch; a multiple of the window length') }, { additionalProperties: false });

  return {
    BookingId: Type.Object({ id: Type.String({ pattern: bookingIdPattern, description: 'booking id (bk_…)' }) }),
    AvailabilityQuery: Type.Object(
      {
        site,
        laneKind: Type.Optional(laneKind),
        direction: Type.Optional(direction),
        from: Type.Optional(epochMs('start, ms since the epoch; moved back to the start of its window. Default: the current window')),
        to: Type.Optional(epochMs(`end (exclusive); at most ${days} days after from. Default: 24 hours after from`)),
      },
      { additionalProperties: false },
    ),
    AvailabilityList: Type.Object({ site: Type.String(), windowMs: Type.Integer(), from: epochMs('first window start'), to: epochMs('end of the last window'), windows: Type.Array(Places) }, { title: 'Availability' }),
    HoldBody: Type.Object(
      {
        site,
        laneKind,
        direction,
        windowStart: epochMs('start of the window to book, ms since the epoch; a multiple of the window length (GET /v1/slots lists them)'),
        plate: BookingPlate,
        cargoClass: oneOf(cargoClasses, 'cargo class'),
      },
      { additionalProperties: false, title: 'BookingRequest' },
    ),
    IdempotencyHeaders: Type.Object({
      'idempotency-key': Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', description: 'a key the client makes up per booking (a UUID): the same key again returns the same booking' }),
    }),
    BookingsQuery: Type.Object(
      {
        from: Type.Optional(epochMs('earliest window start. Default: 24 hours ago')),
        to: Type.Optional(epochMs(`latest window start (exclusive); at most ${days} days after from. Default: 7 days after from`)),
        state: Type.Optional(oneOf(bookingStates, 'only bookings in this state')),
        site: Type.Optional(site),
        firm: Type.Optional(Type.String({ pattern: firmIdPattern, description: 'operators: one firm’s bookings (firms always see only their own)' })),
      },
      { additionalProperties: false },
    ),
    BookingList: Type.Object({ bookings: Type.Array(SlotBooking, { maxItems: limits.maxBookings }), truncated: Type.Boolean({ description: `more than ${limits.maxBookings} matched: narrow the range` }) }, { title: 'BookingList' }),
    WindowSelector,
    WindowOverride: Type.Object(
      {
        ...WindowSelector.properties,
        capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'places of the window (fewer than are booked cancels nothing; it only stops new holds)' })),
        closed: Type.Optional(Type.Boolean({ description: 'closed: no new holds; bookings already made stand unless cancelled' })),
      },
      { additionalProperties: false, title: 'WindowOverride' },
    ),
    FirmParam: Type.Object({ firm: Type.String({ pattern: firmIdPattern }) }),
  };
}
