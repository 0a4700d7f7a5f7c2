import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { bookingView, ProblemDocument, SlotBookingView, ValidationProblem, vietnamIso, type AccessRecord, type AccessRegistry, type ProblemError, type SiteCatalog } from '@tower/shared';
import { spendOrRefuse, type KeyBudget } from '../budget.ts';
import type { SlotDesk } from '../desk.ts';
import { isDeskError } from '../desk-errors.ts';
import { deskProblem, type InputPlace } from './problems.ts';
import { FirmRecordView, slotSchemas, WindowView } from './schemas.ts';
import { instantOf, optionalInstantOf, windowView } from './views.ts';

export interface SlotRouteOptions {
  desk: SlotDesk;
  access: AccessRegistry;
  /** Requests per token: a firm's client that loops cannot crowd out the others. */
  budget: KeyBudget;
  catalog: SiteCatalog;
  maxRangeMs: number;
  maxBookings: number;
  /** Most bookings one POST /v1/bookings:batch holds. */
  maxBatchItems: number;
  now: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: AccessRecord;
  }
}

export const problems = { 400: ProblemDocument, 401: ProblemDocument, 403: ProblemDocument, 404: ProblemDocument, 409: ProblemDocument, 422: ProblemDocument, 429: ProblemDocument, 503: ProblemDocument };
const keyHint = 'a firm’s API key or an operator token';

/**
 * The slots API. Its routes live in a scope whose error handler turns the desk's errors
 * into problems, once, here: the desk names a field as the caller gave it, which a GET
 * takes in its query string and a POST, PUT or DELETE in its body. The root's handler
 * (installProblemHandler) then sends them, and every other error, as problem+json.
 */
export function registerSlotRoutes(root: FastifyInstance, options: SlotRouteOptions): void {
  registerDeskRoutes(root, (scope) => slotRoutes(scope, options));
}

/** Routes of the desk (bookings, fleets) in a scope of their own whose error handler turns the desk's errors into problems. */
export function registerDeskRoutes(root: FastifyInstance, routes: (scope: FastifyInstance) => void): void {
  void root.register(async (scope) => {
    scope.setErrorHandler((error: Error, request) => {
      throw isDeskError(error) ? deskProblem(error, request.method === 'GET' ? 'querystring' : 'body') : error;
    });
    scope.decorateRequest('caller', undefined);
    routes(scope);
  });
}

/**
 * Who calls, for a desk route's onRequest: the token checked, one request spent from its
 * budget (`spend` takes more: a batch), and the caller as the handler reads it.
 */
export function deskCallers(options: { access: AccessRegistry; budget: KeyBudget }) {
  const spend = (caller: AccessRecord, requests: number) => spendOrRefuse(options.budget, caller.id, requests);
  const authenticate = async (request: { headers: { authorization?: string }; caller?: AccessRecord }) => {
    const caller = options.access.authenticate(request.headers.authorization, keyHint);
    await spend(caller, 1);
    request.caller = caller;
  };
  const caller = (request: { caller?: AccessRecord }) => request.caller as AccessRecord;
  return { spend, authenticate, caller };
}

function slotRoutes(scope: FastifyInstance, options: SlotRouteOptions): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { desk, now } = options;
  const schemas = slotSchemas(options.catalog, options);
  const security = [{ apiKey: [] }];
  const { spend, authenticate, caller } = deskCallers(options);

  app.get(
    '/v1/slots',
    {
      schema: {
        summary: 'Availability: places per window of each lane group of a site',
        description: 'Total (capacity), held, booked, free and closed per window, as the slot store has them now. Any valid token may read it. A site under construction has no windows (409 site-under-construction).',
        tags: ['slots'],
        security,
        querystring: schemas.AvailabilityQuery,
        response: { 200: schemas.AvailabilityList, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const { site } = request.query;
      const query = { ...request.query, from: optionalInstantOf(request.query.from, 'from'), to: optionalInstantOf(request.query.to, 'to') };
      const { from, to, windows } = await desk.availability(query, now());
      const siteNames = options.catalog.site(site)!.names;
      return { site, siteNames, windowMs: desk.windowMs, from, to, fromIso: vietnamIso(from), toIso: vietnamIso(to), windows: windows.map((w) => windowView(options.catalog, site, w)) };
    },
  );

  app.post(
    '/v1/bookings',
    {
      schema: {
        summary: 'Hold a place in a window (firms)',
        description: [
          'Holds a place for a truck; confirm it with POST /v1/bookings/{id}/confirm before `heldUntil` or it expires.',
          'Send an Idempotency-Key: the same key again returns the same booking (200, Idempotent-Replayed: true) instead of a second place.',
          'The truck must be in the firm’s fleet (POST /v1/fleet/trucks): another is a 422 plate-not-in-fleet naming /body/plate, whether or not it is booked.',
          'Refusals are 409 problems whose type names the rule: window-full, window-closed, firm-cap-reached, plate-already-booked (the firm’s own truck), site-under-construction (a site being built, Vạn Ninh, has no windows).',
          'The booking is in the slot store and on tower.slots.v1 before the answer; Redis or Kafka unavailable: 503 with Retry-After.',
        ].join(' '),
        tags: ['bookings'],
        security,
        headers: schemas.IdempotencyHeaders,
        body: schemas.HoldBody,
        response: { 200: SlotBookingView, 201: SlotBookingView, ...problems },
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const { booking, replayed } = await desk.hold(caller(request), { ...request.body, windowStart: instantOf(request.body.windowStart, 'windowStart'), idempotencyKey: request.headers['idempotency-key'], at: now() });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(replayed ? 200 : 201).header('location', `/v1/bookings/${booking.id}`).send(bookingView(booking));
    },
  );

  app.post(
    // `::` is a literal colon to fastify's router: the path is /v1/bookings:batch.
    '/v1/bookings::batch',
    {
      schema: {
        summary: 'Hold several bookings in one request (firms)',
        description: [
          `Up to ${options.maxBatchItems} items, each a POST /v1/bookings body with its own idempotencyKey, held one after the other in order, each on its own: all or nothing per item, never across items.`,
          'The answer is 200 with one result per item, in order, whose status is what POST /v1/bookings would have answered for it (201 held, 200 the same key again, 4xx refused with its problem); 400 when the batch itself is not valid (no item held).',
          'Confirm each held booking with POST /v1/bookings/{id}/confirm. A batch of N counts N requests against the key’s rate. On a 503 item the rest were not tried: send the batch again with the same keys.',
        ].join(' '),
        tags: ['bookings'],
        security,
        body: schemas.BatchBody,
        response: { 200: schemas.BatchResults, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const who = caller(request);
      const { items } = request.body;
      await spend(who, items.length - 1);
      const results: Static<typeof schemas.BatchResults>['results'] = [];
      let unavailable: ProblemError | undefined;
      for (const [index, { idempotencyKey, ...item }] of items.entries()) {
        if (unavailable) {
          results.push({ index, idempotencyKey, status: unavailable.status, problem: unavailable.toProblem() });
          continue;
        }
        try {
          const { booking, replayed } = await desk.hold(who, { ...item, windowStart: instantOf(item.windowStart, 'windowStart'), idempotencyKey, at: now() });
          results.push({ index, idempotencyKey, status: replayed ? 200 : 201, booking: bookingView(booking) });
        } catch (error) {
          if (!isDeskError(error)) throw error;
          const problem = deskProblem(error, `body/items/${index}` satisfies InputPlace);
          if (error.kind === 'unavailable') unavailable = problem;
          results.push({ index, idempotencyKey, status: problem.status, problem: problem.toProblem() });
        }
      }
      return { results };
    },
  );

  app.post(
    '/v1/bookings/:id/confirm',
    {
      schema: { summary: 'Confirm a held booking (firms)', tags: ['bookings'], security, params: schemas.BookingId, response: { 200: SlotBookingView, ...problems } },
      onRequest: authenticate,
    },
    async (request) => bookingView(await desk.confirm(caller(request), request.params.id, now())),
  );

  app.delete(
    '/v1/bookings/:id',
    {
      schema: {
        summary: 'Cancel a booking',
        description: 'Firms cancel their own held or confirmed bookings up to the cut-off before the window (409 past-cancel-cutoff after it); operators cancel any, at any time.',
        tags: ['bookings'],
        security,
        params: schemas.BookingId,
        response: { 200: SlotBookingView, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => bookingView(await desk.cancel(caller(request), request.params.id, now())),
  );

  app.get(
    '/v1/bookings/:id',
    {
      schema: { summary: 'One booking (a firm sees only its own: another firm’s is 404)', tags: ['bookings'], security, params: schemas.BookingId, response: { 200: SlotBookingView, ...problems } },
      onRequest: authenticate,
    },
    async (request) => bookingView(await desk.booking(caller(request), request.params.id, now())),
  );

  app.get(
    '/v1/bookings',
    {
      schema: {
        summary: 'Bookings by window start: a firm its own; operators one site’s or one firm’s',
        tags: ['bookings'],
        security,
        querystring: schemas.BookingsQuery,
        response: { 200: schemas.BookingList, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const query = { ...request.query, from: optionalInstantOf(request.query.from, 'from'), to: optionalInstantOf(request.query.to, 'to') };
      const { bookings, truncated } = await desk.bookings(caller(request), query, now());
      return { bookings: bookings.map(bookingView), truncated };
    },
  );

  app.put(
    '/v1/windows',
    {
      schema: {
        summary: 'Set the capacity of a window, or close or reopen it (operators)',
        description: 'Overrides the capacity plan for one window of one lane group. Bookings already made stand: fewer places or a closure only stop new holds (cancel bookings one by one with DELETE /v1/bookings/{id}).',
        tags: ['operators'],
        security,
        body: schemas.WindowOverride,
        response: { 200: WindowView, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => windowView(options.catalog, request.body.site, await desk.setWindow(caller(request), { ...request.body, windowStart: instantOf(request.body.windowStart, 'windowStart') }, now())),
  );

  app.get(
    '/v1/firms/:firm',
    {
      schema: {
        summary: 'A firm’s record: arrivals, no-shows and its cap per window now (`me` for the caller’s own firm)',
        tags: ['bookings'],
        security,
        params: schemas.FirmParam,
        response: { 200: FirmRecordView, ...problems },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const who = caller(request);
      if (request.params.firm !== 'me') return desk.firmRecord(who, request.params.firm);
      if (!who.firm) throw new ValidationProblem([{ field: '/params/firm', reason: `'me' is a firm key's own record; ${who.id} is a ${who.role} token: name the firm` }]);
      return desk.firmRecord(who, who.firm);
    },
  );
}
