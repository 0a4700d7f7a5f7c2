/**
 * The Smart Operations Center process: reads config, wires ClickHouse, serves the
 * history API, and on SIGTERM stops taking requests, lets those in flight finish and
 * closes the client.
 */
import path from 'node:path';
import { Lifecycle, createClickHouse, createLogger, createMetricsRegistry, loadCatalog, loadConfigOrExit, pingClickHouse } from '@tower/shared';
import { buildApp } from './app.ts';
import { liveEnv } from './config.ts';

const config = loadConfigOrExit('live', liveEnv);

const logger = createLogger({ service: 'live', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const clickhouse = createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger });
const app = await buildApp({
  settings: {
    maxBuckets: config.HISTORY_MAX_BUCKETS,
    journeyLookbackDays: config.JOURNEY_LOOKBACK_DAYS,
    clearanceTargetMs: config.CLEARANCE_TARGET_MS,
    queueFreshMs: config.QUEUE_SAMPLE_FRESH_MS,
    laneStateLookbackDays: config.LANE_STATE_LOOKBACK_DAYS,
  },
  logger,
  catalog: loadCatalog(path.resolve(config.CATALOG_FILE)),
  clickhouse,
  metrics: createMetricsRegistry('live'),
  readiness: [{ name: 'clickhouse', check: () => pingClickHouse(clickhouse) }],
});

lifecycle.onShutdown({ name: 'http (finish requests in flight)', run: () => app.close() }).onShutdown({ name: 'clickhouse', run: () => clickhouse.close() });

await app.listen({ port: config.PORT, host: config.HOST });
logger.info({ port: config.PORT }, 'Smart Operations Center API ready');
