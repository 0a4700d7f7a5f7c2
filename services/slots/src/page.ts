import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { bookableLaneKinds, Names, registerBuiltPage, sitePhase, type SiteCatalog } from '@tower/shared';

/** The dispatchers' booking page as `npm start` and `npm test` build it (infra/local/bootstrap.sh). */
export const bookingPageDirectory = path.resolve(import.meta.dirname, '../dist/page');

/** What the page reads before it signs in: where the firm may book, and the booking rules it shows. */
export const BookingPageConfig = Type.Object(
  {
    sites: Type.Array(Type.Object({ id: Type.String(), names: Names })),
    cancelCutoffMs: Type.Integer({ description: 'a firm cancels a confirmed booking until this long before its window (the page offers cancel until then)' }),
    liveUrl: Type.String({ description: 'the live gateway’s WebSocket the page follows the firm’s bookings on; empty: it reads GET /v1/bookings every few seconds' }),
  },
  { additionalProperties: false },
);
export type BookingPageConfig = Static<typeof BookingPageConfig>;

/** The operating sites with lanes a truck books a crossing on (a site under construction takes no bookings). */
export function bookableSites(catalog: SiteCatalog): BookingPageConfig['sites'] {
  return catalog.document.sites
    .filter((site) => sitePhase(site) === 'operating' && site.lanes.some((lane) => bookableLaneKinds.has(lane.kind) && lane.direction))
    .map((site) => ({ id: site.id, names: site.names }));
}

/**
 * The booking page at `/` (Swagger UI stays at /docs; `directory` is Vite's build of
 * services/slots/page) and its settings at `/booking-page.json` (public: the catalog's
 * sites, the rules and the live gateway's address, nothing of a firm), both under the
 * page's budget per client address. Its CSP lets it open the gateway's socket, on another origin.
 */
export function registerBookingPage(app: FastifyInstance, directory: string, body: BookingPageConfig): void {
  const onRequest = registerBuiltPage(app, { directory, buildCommand: 'npm run build:page', connect: body.liveUrl ? [new URL(body.liveUrl).origin] : [] });
  app.get('/booking-page.json', { schema: { hide: true, response: { 200: BookingPageConfig } }, onRequest }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(body));
}
