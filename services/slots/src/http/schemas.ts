import { Type, type Static } from '@sinclair/typebox';
import { bookableLaneKinds, bookingIdPattern, BookingPlate, bookingStates, cargoClasses, directions, firmIdPattern, InstantInput, Names, ProblemDocument, SlotAvailability, SlotBookingView, VietnamTime, type SiteCatalog } from '@tower/shared';

/**
 * Request and response schemas of the slots API, declared once: fastify validates
 * requests and serialises responses with them, and /docs is built from them. Site ids
 * are an enum of the catalog, so a wrong one is a 400 that lists the right ones.
 */
const epochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000, description });
const oneOf = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], description });

export const Places = Type.Omit(SlotAvailability, ['site', 'version']);

/** Why a window takes no holds: an operator closed it, or it has no places (no lane open in the plan then, or an operator set its capacity to 0). */
export const closedReasons = ['closed-by-operator', 'no-capacity'] as const;

/** A window's places as firms read them: with its times in Vietnam time, its label and its names in the three languages. */
export const WindowView = Type.Object(
  {
    ...Places.properties,
    closed: Type.Boolean({ description: 'nothing can be held: closed by an operator, or no places at all (closedReason says which)' }),
    closedReason: Type.Union([Type.Unsafe<(typeof closedReasons)[number]>({ type: 'string', enum: [...closedReasons] }), Type.Null()], {
      description: 'closed-by-operator; no-capacity (no lane open in the capacity plan then, e.g. Tết, or an operator set the capacity to 0); null when open',
    }),
    windowStartIso: VietnamTime('start of the window'),
    windowEndIso: VietnamTime('end (exclusive) of the window'),
    label: Type.String({ description: 'the window in Vietnam time, `21:00–21:30`', examples: ['21:00–21:30'] }),
    date: Type.String({ description: 'the Vietnam date the window starts on, YYYY-MM-DD', examples: ['2026-11-30'] }),
    siteNames: Names,
    laneGroupNames: Type.Object(Names.properties, { additionalProperties: false, description: 'the lane group (the site’s lanes of this kind and direction), from the catalog’s lane names' }),
  },
  { title: 'WindowPlaces', additionalProperties: false },
);
export type WindowView = Static<typeof WindowView>;

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

export function slotSchemas(catalog: SiteCatalog, limits: { maxRangeMs: number; maxBookings: number; maxBatchItems: number }) {
  const siteIds = catalog.document.sites.map((s) => s.id);
  const site = oneOf(siteIds, 'site id from the catalog (GET /v1/catalog on the ingest API, or the operators’ /v1/sites)');
  const laneKind = oneOf([...bookableLaneKinds], 'lane kind of the lane group: smart, igv (automated guided vehicles), manual or port-gate; which ones a site has is in its lanes');
  const direction = oneOf(directions, 'export (Vietnam → China) or import');
  const days = Math.round(limits.maxRangeMs / 86_400_000);

  const idempotencyKey = (description: string) => Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$', description });
  const HoldBody = Type.Object(
    {
      site,
      laneKind,
      direction,
      windowStart: InstantInput('start of the window to book, on a window boundary (GET /v1/slots lists them)'),
      plate: BookingPlate,
      cargoClass: oneOf(cargoClasses, 'cargo class'),
    },
    { additionalProperties: false, title: 'BookingRequest' },
  );
  const WindowSelector = Type.Object({ site, laneKind, direction, windowStart: InstantInput('start of the window; on a window boundary') }, { additionalProperties: false });

  return {
    BookingId: Type.Object({ id: Type.String({ pattern: bookingIdPattern, description: 'booking id (bk_…)' }) }),
    AvailabilityQuery: Type.Object(
      {
        site,
        laneKind: Type.Optional(laneKind),
        direction: Type.Optional(direction),
        from: Type.Optional(InstantInput('start, moved back to the start of its window. Default: the current window')),
        to: Type.Optional(InstantInput(`end (exclusive); at most ${days} days after from. Default: 24 hours after from`)),
      },
      { additionalProperties: false },
    ),
    AvailabilityList: Type.Object(
      {
        site: Type.String(),
        siteNames: Names,
        windowMs: Type.Integer(),
        from: epochMs('first window start'),
        to: epochMs('end of the last window'),
        fromIso: VietnamTime('first window start'),
        toIso: VietnamTime('end of the last window'),
        windows: Type.Array(WindowView),
      },
      { title: 'Availability' },
    ),
    HoldBody,
    IdempotencyHeaders: Type.Object({ 'idempotency-key': idempotencyKey('a key the client makes up per booking (a UUID): the same key again returns the same booking') }),
    BatchBody: Type.Object(
      {
        items: Type.Array(
          Type.Object({ ...HoldBody.properties, idempotencyKey: idempotencyKey('this booking’s own key, as the Idempotency-Key header of POST /v1/bookings: the same key again (in this batch or another) returns the same booking') }, { additionalProperties: false, title: 'BatchItem' }),
          { minItems: 1, maxItems: limits.maxBatchItems, description: `1 to ${limits.maxBatchItems} bookings to hold, each as POST /v1/bookings would` },
        ),
      },
      { additionalProperties: false, title: 'BookingBatch' },
    ),
    BatchResults: Type.Object(
      {
        results: Type.Array(
          Type.Object(
            {
              index: Type.Integer({ description: 'the item’s place in `items`, from 0' }),
              idempotencyKey: Type.String(),
              status: Type.Integer({ description: 'what POST /v1/bookings would have answered: 201 held, 200 the same key again (the booking it made), 400, 403, 409 or 422 refused, 503 Redis or Kafka did not answer (the items after it were not tried: retry the batch with the same keys)' }),
              booking: Type.Optional(SlotBookingView),
              problem: Type.Optional(ProblemDocument),
            },
            { additionalProperties: false, title: 'BatchResult' },
          ),
        ),
      },
      { title: 'BookingBatchResults' },
    ),
    BookingsQuery: Type.Object(
      {
        from: Type.Optional(InstantInput('earliest window start. Default: 24 hours ago')),
        to: Type.Optional(InstantInput(`latest window start (exclusive); at most ${days} days after from. Default: 7 days after from`)),
        state: Type.Optional(oneOf(bookingStates, 'only bookings in this state')),
        site: Type.Optional(site),
        firm: Type.Optional(Type.String({ pattern: firmIdPattern, description: 'operators: one firm’s bookings (firms always see only their own)' })),
      },
      { additionalProperties: false },
    ),
    BookingList: Type.Object({ bookings: Type.Array(SlotBookingView, { maxItems: limits.maxBookings }), truncated: Type.Boolean({ description: `more than ${limits.maxBookings} matched: narrow the range` }) }, { title: 'BookingList' }),
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
