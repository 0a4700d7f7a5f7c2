import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PayloadTooLargeProblem, ProblemDocument, RateLimitedProblem, ValidationProblem, type EventValidator, type RateLimiter } from '@tower/shared';
import { endRequestSpan, traceHeadersOf, type Span, type Tracing } from '@tower/shared/tracing';
import { judgeBatch, parseNdjson } from '../domain/batch.ts';
import type { Device, DeviceRegistry } from '../domain/devices.ts';
import { refuseConflictingIds, type EventIdentityLedger } from '../domain/event-identity.ts';
import type { EventPublisher } from '../publisher.ts';
import { contentEncodings, decodeContentEncoding } from './content-encoding.ts';
import type { IngestMetrics } from './metrics.ts';
import { AnyEvent, BatchResult } from './schemas.ts';

declare module 'fastify' {
  interface FastifyRequest {
    device?: Device;
    /** The request's span, only when tracing is on. */
    span?: Span;
  }
}

export interface EventsRouteOptions {
  devices: DeviceRegistry;
  rateLimiter: RateLimiter;
  validate: EventValidator;
  /** Where each eventId's first content is recorded: another content under the id is refused. */
  eventIds: EventIdentityLedger;
  publisher: EventPublisher;
  metrics: IngestMetrics;
  maxBatchEvents: number;
  now: () => number;
  /** Set only where a collector is configured; absent, a request costs no tracing work. */
  tracing?: Tracing;
}

export function registerEventsRoute(app: FastifyInstance, options: EventsRouteOptions): void {
  const { devices, rateLimiter, validate, eventIds, publisher, metrics, maxBatchEvents, now, tracing } = options;
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_request, body, done) => done(null, parseNdjson(body as string)));
  app.decorateRequest('device', undefined);
  app.decorateRequest('span', undefined);
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/v1/events') metrics.batches.inc({ status: String(reply.statusCode) });
    if (request.span) endRequestSpan(request.span, reply.statusCode);
  });

  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Send a batch of device events',
        description: [
          `A JSON array of up to ${maxBatchEvents} events, or NDJSON (application/x-ndjson, one event per line).`,
          'Each event is validated against its schema and the site catalog. Valid events are written to Kafka',
          '(acks=all) before the answer: 200 when all were accepted, 207 when some were refused (each listed',
          'with its index and every problem), 400 when none was valid. Kafka unavailable: 503 with Retry-After,',
          'and nothing was accepted. Re-sending an event unchanged with the same eventId is harmless; an eventId',
          'already used for an event with different content is refused (`event-id-conflict` on its `/eventId`).',
          'Every string must be well-formed Unicode (no lone surrogate). Redis (the eventId record) unavailable: 503.',
          'The body may be gzipped (`Content-Encoding: gzip`); the body limit applies to the decoded bytes (413 past it,',
          'and a gzip bomb is not inflated beyond it); a body that is not valid gzip is a 400 naming /body; any other coding is a 415.',
        ].join(' '),
        tags: ['events'],
        security: [{ deviceKey: [] }],
        headers: Type.Object({
          'content-encoding': Type.Optional(Type.Union(contentEncodings.map((c) => Type.Literal(c)), { description: 'gzip for a gzipped body (devices on cellular links); none or identity for plain JSON/NDJSON' })),
        }),
        body: {
          content: {
            'application/json': { schema: Type.Array(AnyEvent, { maxItems: maxBatchEvents }) },
            'application/x-ndjson': { schema: Type.String({ description: 'the same events, one JSON object per line' }) },
          },
        },
        response: { 200: BatchResult, 207: BatchResult, 400: ProblemDocument, 401: ProblemDocument, 403: ProblemDocument, 413: ProblemDocument, 415: ProblemDocument, 429: ProblemDocument, 503: ProblemDocument },
      },
      // The body is validated event by event below, so that one bad event does not refuse the batch.
      validatorCompiler: () => (value) => ({ value }),
      onRequest: async (request) => {
        request.device = devices.authenticate(request.headers.authorization);
        // After authentication: a caller without a device key cannot make spans.
        if (tracing) request.span = tracing.startRequestSpan('POST', '/v1/events', request.headers);
      },
      // After authentication: only a known device gets a body inflated.
      preParsing: decodeContentEncoding,
    },
    async (request, reply) => {
      const receivedAt = now();
      const device = request.device as Device;
      const items = request.body;
      if (!Array.isArray(items)) throw new ValidationProblem([{ field: '/', reason: 'the body must be a JSON array of events, or NDJSON with one event per line' }]);
      if (items.length === 0) throw new ValidationProblem([{ field: '/', reason: 'the batch is empty' }]);
      if (items.length > maxBatchEvents) throw new PayloadTooLargeProblem(`the batch has ${items.length} events; at most ${maxBatchEvents} per request`);
      metrics.batchSize.observe(items.length);
      const allowance = rateLimiter.take(device.id, items.length);
      if (!allowance.allowed) {
        throw new RateLimitedProblem(`device ${device.id} is over its rate of events; retry in ${allowance.retryAfterSeconds} s`, allowance.retryAfterSeconds);
      }

      const verdict = await refuseConflictingIds(judgeBatch(items, validate, device), eventIds);
      for (const rejected of verdict.rejected) metrics.rejected.inc({ field: rejected.errors[0]?.field ?? '/' });
      if (verdict.accepted.length === 0) {
        throw new ValidationProblem(
          verdict.rejected.flatMap((r) => r.errors.map((e) => ({ field: `/${r.index}${e.field === '/' ? '' : e.field}`, reason: e.reason }))),
          `none of the ${items.length} events is valid`,
        );
      }
      const stopTimer = metrics.kafkaLatency.startTimer();
      const span = request.span;
      span?.setAttributes({ 'tower.device': device.id, 'tower.events.accepted': verdict.accepted.length, 'tower.events.rejected': verdict.rejected.length });
      // The records carry the request's span, so the aggregator can link its batch to it.
      await publisher.publish(verdict.accepted, device.id, receivedAt, span && traceHeadersOf(span.spanContext()));
      stopTimer();
      for (const { family } of verdict.accepted) metrics.accepted.inc({ family: family.name });
      return reply.status(verdict.rejected.length > 0 ? 207 : 200).send({ accepted: verdict.accepted.length, rejected: verdict.rejected });
    },
  );
}
