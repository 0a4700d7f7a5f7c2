/**
 * The ClickHouse exporter process: reads config, logs in to ClickHouse as its
 * read-only user and serves /metrics, reading ClickHouse at each scrape. It starts and
 * is ready while ClickHouse is down (it exists to report that); a refused login stops
 * it at start. On SIGTERM it stops serving, then closes the client.
 */
import { Lifecycle, checkClickHouseLogin, clientPart, createClickHouse, createLogger, loadConfigOrExit } from '@tower/shared';
import { buildApp } from './app.ts';
import { exporterEnv } from './config.ts';
import { SystemTablesReader } from './reader.ts';

const config = loadConfigOrExit('clickhouse-exporter', exporterEnv);

const logger = createLogger({ service: 'clickhouse-exporter', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const clickhouse = createClickHouse({
  url: config.CLICKHOUSE_URL,
  username: config.CLICKHOUSE_USER,
  password: config.CLICKHOUSE_PASSWORD,
  database: 'system',
  requestTimeoutMs: config.CLICKHOUSE_READ_TIMEOUT_MS,
  logger,
});

const { parts } = buildApp({ logger, reader: new SystemTablesReader(clickhouse, config.CLICKHOUSE_DATABASE), listen: { port: config.PORT, host: config.HOST } });
await lifecycle.startOrExit('clickhouse-exporter', [
  clientPart('clickhouse', { dependency: 'ClickHouse', user: config.CLICKHOUSE_USER, connect: () => checkClickHouseLogin(clickhouse), close: () => clickhouse.close() }),
  ...parts,
]);
logger.info({ port: config.PORT, clickhouse: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE }, 'clickhouse exporter ready');
