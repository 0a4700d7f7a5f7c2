import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import { installProblemHandler, registerOpsRoutes, withoutRequestLogs, type ClickHouseClient, type Logger, type ReadinessCheck, type SiteCatalog } from '@tower/shared';
import { registerHistoryRoutes, type HistorySettings } from './history/routes.ts';
import { HistoryStore } from './history/store.ts';

export interface LiveDependencies {
  settings: HistorySettings;
  logger: Logger;
  catalog: SiteCatalog;
  clickhouse: ClickHouseClient;
  metrics: Registry;
  readiness: ReadinessCheck[];
  now?: () => number;
}

/** Builds the operators' address (history API today); connects nothing, listens nowhere. */
export async function buildApp(deps: LiveDependencies): Promise<FastifyInstance> {
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
        description: 'Throughput history, the KPIs of now and truck journeys at Bắc Luân II, Vạn Ninh and the other crossings, read from the ClickHouse aggregates.',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  registerHistoryRoutes(app, { catalog: deps.catalog, store: new HistoryStore(deps.clickhouse), settings: deps.settings, now: deps.now ?? Date.now });
  return app;
}
