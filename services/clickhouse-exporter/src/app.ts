import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installProblemHandler, installSecurityHeaders, registerOpsRoutes, serverOptions, withoutRequestLogs, type Logger } from '@tower/shared';
import { ClickHouseCollector, ExporterMetrics, ExporterRegistry } from './collector.ts';
import type { ClickHouseReader } from './reader.ts';

export interface ExporterDependencies {
  logger: Logger;
  reader: ClickHouseReader;
}

/**
 * `/metrics`: the service's own metrics, then ClickHouse's, read at the scrape. Ready
 * whenever it serves: while ClickHouse is down it reports that (`tower_clickhouse_up 0`).
 */
export function buildApp(deps: ExporterDependencies): FastifyInstance {
  const registry = new ExporterRegistry('clickhouse-exporter');
  registry.readFrom(new ClickHouseCollector(deps.reader, new ExporterMetrics(registry), deps.logger));
  const app = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, logController: withoutRequestLogs() });
  installProblemHandler(app);
  installSecurityHeaders(app);
  registerOpsRoutes(app, { metrics: registry, readiness: [] });
  return app;
}
