import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { httpPart, installProblemHandler, installSecurityHeaders, registerOpsRoutes, serverOptions, withoutRequestLogs, type ListenOn, type Logger, type Part } from '@tower/shared';
import { ClickHouseCollector, ExporterMetrics, ExporterRegistry, readBudgetMs, scrapeTimeoutHeader } from './collector.ts';
import type { ClickHouseReader } from './reader.ts';

export interface ExporterDependencies {
  logger: Logger;
  reader: ClickHouseReader;
  /** Where to listen (main.ts); tests that inject leave it out. */
  listen?: ListenOn;
}

/**
 * `/metrics`: the service's own metrics, then ClickHouse's, read at the scrape. Ready
 * whenever it serves: while ClickHouse is down it reports that (`tower_clickhouse_up 0`).
 * Its one part is the HTTP server.
 */
export function buildApp(deps: ExporterDependencies): { app: FastifyInstance; parts: Part[] } {
  const registry = new ExporterRegistry('clickhouse-exporter');
  registry.readFrom(new ClickHouseCollector(deps.reader, new ExporterMetrics(registry), deps.logger));
  const app = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, logController: withoutRequestLogs() });
  installProblemHandler(app);
  installSecurityHeaders(app);
  // The read answers within the scrape's own timeout (Prometheus's header), or ClickHouse is reported down in time.
  app.addHook('onRoute', (route) => {
    if (route.url !== '/metrics') return;
    const answer = route.handler;
    route.handler = function (request, reply) {
      return registry.duringScrape(readBudgetMs(request.headers[scrapeTimeoutHeader]), () => answer.call(this, request, reply));
    };
  });
  registerOpsRoutes(app, { metrics: registry, readiness: [] });
  return { app, parts: [httpPart('http', app, deps.listen)] };
}
