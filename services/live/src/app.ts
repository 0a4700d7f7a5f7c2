import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import { installProblemHandler, registerOpsRoutes, withoutRequestLogs, type AccessRegistry, type ClickHouseClient, type Logger, type ReadinessCheck, type SiteCatalog } from '@tower/shared';
import { alignRange, fillSeries } from './domain/series.ts';
import type { LiveHub } from './gateway/hub.ts';
import { GatewayMetrics } from './gateway/metrics.ts';
import { attachGateway, type GatewaySettings } from './gateway/server.ts';
import type { SnapshotHistory } from './gateway/session.ts';
import { registerHistoryRoutes, type HistorySettings } from './history/routes.ts';
import { HistoryStore } from './history/store.ts';

export interface LiveSettings {
  history: HistorySettings;
  gateway: GatewaySettings;
}

export interface LiveDependencies {
  settings: LiveSettings;
  logger: Logger;
  catalog: SiteCatalog;
  clickhouse: ClickHouseClient;
  access: AccessRegistry;
  /** Fed by the tick feed (main.ts) or by a test. */
  hub: LiveHub;
  metrics: Registry;
  readiness: ReadinessCheck[];
  now?: () => number;
}

export interface Live {
  app: FastifyInstance;
  /** Closes every socket (1001) and stops the heartbeat; call before app.close(). */
  closeGateway(): Promise<void>;
  connections(): number;
}

/** Builds the operators' address: history API and the live gateway; connects nothing, listens nowhere. */
export async function buildApp(deps: LiveDependencies): Promise<Live> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: withoutRequestLogs(),
    // An unknown query parameter is a 400 naming it, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  installProblemHandler(app);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Móng Cái smart-gate control tower: Smart Operations Center API',
        version: '1',
        description:
          'Throughput history, the KPIs of now and truck journeys at Bắc Luân II, Vạn Ninh and the other crossings, read from the ClickHouse aggregates. Live figures: WebSocket /v1/live (docs/live-protocol.md).',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  const store = new HistoryStore(deps.clickhouse);
  registerHistoryRoutes(app, { catalog: deps.catalog, store, settings: deps.settings.history, now });

  // A snapshot's history: the last 60 minutes in 1-minute buckets, as GET /v1/throughput gives them.
  const history: SnapshotHistory = async (filter) => {
    const range = alignRange({ step: '1m' }, now(), 60);
    const stored = await store.series({ site: filter.site, lane: filter.lane, laneKind: filter.kind, fromSeconds: range.fromMs / 1000, toSeconds: range.toMs / 1000, step: '1m' });
    return fillSeries(range, stored).map(({ start, events, trucksCrossed, containersMoved, teuMoved, tonnes }) => ({ start, events, trucksCrossed, containersMoved, teuMoved, tonnes }));
  };
  const gateway = attachGateway(app, {
    settings: deps.settings.gateway,
    access: deps.access,
    hub: deps.hub,
    catalog: deps.catalog,
    history,
    metrics: new GatewayMetrics(deps.metrics),
    logger: deps.logger,
  });
  return { app, closeGateway: () => gateway.close(), connections: () => gateway.connections() };
}
