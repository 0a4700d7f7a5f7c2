import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/** Seconds: 5 ms (a cached read) to 10 s (past every timeout the services set). */
const httpDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The methods a route can have; anything else (WebDAV, custom verbs) counts as `other`. */
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * `tower_http_request_duration_seconds{route,method,status_class}` for every request the
 * app answers. `route` is the route template (`/v1/bookings/:id/confirm`), `unmatched` when
 * no route matched: label values come from the code, never from the request, so a client
 * cannot create series by probing paths. Installed on the root instance, it times every
 * route, registered before or after it (fastify binds root hooks when the app is ready).
 */
export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'tower_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response, by route template, method and status class',
    labelNames: ['route', 'method', 'status_class'],
    buckets: httpDurationBuckets,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: knownMethods.has(request.method) ? request.method : 'other',
        status_class: `${Math.floor(reply.statusCode / 100)}xx`,
      },
      reply.elapsedTime / 1000,
    );
  });
}
