import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import {
  SiteCatalogDocument,
  createEventValidator,
  defaultValidationOptions,
  httpPart,
  installProblemHandler,
  installSecurityHeaders,
  serverOptions,
  registerApiDocs,
  RateLimiter,
  registerOpsRoutes,
  withoutRequestLogs,
  type ListenOn,
  type Logger,
  type Part,
  type ReadinessCheck,
  type SiteCatalog,
} from '@tower/shared';
import type { Tracing } from '@tower/shared/tracing';
import type { DeviceRegistry } from './domain/devices.ts';
import type { EventIdentityLedger } from './domain/event-identity.ts';
import { registerEventsRoute } from './http/events-route.ts';
import { createIngestMetrics } from './http/metrics.ts';
import type { EventPublisher } from './publisher.ts';

export interface IngestSettings {
  maxBatchEvents: number;
  bodyLimitBytes: number;
  deviceRatePerSecond: number;
  deviceBurstEvents: number;
}

export interface IngestDependencies {
  settings: IngestSettings;
  logger: Logger;
  catalog: SiteCatalog;
  devices: DeviceRegistry;
  eventIds: EventIdentityLedger;
  publisher: EventPublisher;
  metrics: Registry;
  readiness: ReadinessCheck[];
  now?: () => number;
  /** Only where a collector is configured (see @tower/shared/tracing). */
  tracing?: Tracing;
  /** Where to listen (main.ts, tests that send over HTTP); tests that inject leave it out. */
  listen?: ListenOn;
}

/** Builds the ingest API from its dependencies; connects nothing, listens nowhere. Its one part is the HTTP server (stop: intake ends, batches in flight drain). */
export async function buildApp(deps: IngestDependencies): Promise<{ app: FastifyInstance; parts: Part[] }> {
  const now = deps.now ?? Date.now;
  const app = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: deps.settings.bodyLimitBytes, logController: withoutRequestLogs() });
  installProblemHandler(app);
  installSecurityHeaders(app);
  app.removeContentTypeParser('text/plain');

  await registerApiDocs(app, {
    title: 'Móng Cái smart-gate control tower: ingest API',
    description: 'Devices at Bắc Luân II, Vạn Ninh and the other crossings send truck, container and lane events here.',
    securitySchemes: { deviceKey: { type: 'http', scheme: 'bearer', description: '<device id>.<secret>, as in .local/credentials.json' } },
  });

  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  app.get('/v1/catalog', { schema: { summary: 'The site catalog: sites, lanes and zones with their ids', tags: ['catalog'], response: { 200: SiteCatalogDocument } } }, async () => deps.catalog.document);
  registerEventsRoute(app, {
    devices: deps.devices,
    rateLimiter: new RateLimiter(deps.settings.deviceRatePerSecond, deps.settings.deviceBurstEvents, now),
    validate: createEventValidator(deps.catalog, { ...defaultValidationOptions, now }),
    eventIds: deps.eventIds,
    publisher: deps.publisher,
    metrics: createIngestMetrics(deps.metrics),
    maxBatchEvents: deps.settings.maxBatchEvents,
    now,
    tracing: deps.tracing,
  });
  return { app, parts: [httpPart('http (stop intake, drain in-flight batches)', app, deps.listen)] };
}
