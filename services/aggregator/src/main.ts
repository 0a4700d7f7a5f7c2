/**
 * The aggregator process: reads config, wires real Kafka and ClickHouse, consumes the
 * event topics, and on SIGTERM stops intake (the batch in hand is stored and its
 * offsets committed before the group is left), publishes the last ticks, flushes the
 * producer and closes the clients.
 */
import path from 'node:path';
import {
  Lifecycle,
  checkClickHouseLogin,
  connectOrExit,
  createClickHouse,
  derivedOrExit,
  kafkaLoginOf,
  createKafka,
  createLogger,
  createMetricsRegistry,
  createProducer,
  loadCatalog,
  loadConfigOrExit,
  pingClickHouse,
  pingKafka,
} from '@tower/shared';
import { Tracing } from '@tower/shared/tracing';
import { buildApp } from './app.ts';
import { aggregatorEnv } from './config.ts';

const config = loadConfigOrExit('aggregator', aggregatorEnv);

const logger = createLogger({ service: 'aggregator', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();
const tracing = await Tracing.start('aggregator', config, logger);

const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-aggregator`, logger, login: derivedOrExit('aggregator', () => kafkaLoginOf(config)) });
const producer = createProducer(kafka);
const admin = kafka.admin();
const clickhouse = createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger });
await connectOrExit('aggregator', 'Kafka', config.KAFKA_SASL_USERNAME, () => Promise.all([producer.connect(), admin.connect()]));
await connectOrExit('aggregator', 'ClickHouse', config.CLICKHOUSE_USER, () => checkClickHouseLogin(clickhouse));

const aggregator = await buildApp({
  settings: {
    groupId: config.CONSUMER_GROUP,
    sessionTimeoutMs: config.CONSUMER_SESSION_TIMEOUT_MS,
    dedupWindowEvents: config.DEDUP_WINDOW_EVENTS,
    allowedLatenessMs: config.ALLOWED_LATENESS_MS,
    tickIntervalMs: config.TICK_INTERVAL_MS,
    tickHorizonMs: config.TICK_HORIZON_MS,
    fetchMinBytes: config.FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.FETCH_MAX_WAIT_MS,
    fetchMaxBytesPerPartition: config.FETCH_MAX_BYTES_PER_PARTITION,
    partitionsConcurrently: config.PARTITIONS_CONCURRENTLY,
  },
  logger,
  catalog: loadCatalog(path.resolve(config.CATALOG_FILE)),
  kafka,
  producer,
  clickhouse,
  metrics: createMetricsRegistry('aggregator'),
  readiness: [
    { name: 'kafka', check: () => pingKafka(admin) },
    { name: 'clickhouse', check: () => pingClickHouse(clickhouse) },
  ],
  topics: {
    events: { truck: config.TOPIC_TRUCKS, container: config.TOPIC_CONTAINERS, lane: config.TOPIC_LANES },
    deadLetter: config.TOPIC_DEADLETTER,
    throughput: config.TOPIC_THROUGHPUT,
    journeys: config.TOPIC_JOURNEYS,
  },
  tracing,
});

lifecycle
  .onShutdown({ name: 'consumer (store and commit the batch in hand, leave the group), last ticks', run: () => aggregator.stop(), timeoutMs: 30_000 })
  .onShutdown({ name: 'http', run: () => aggregator.app.close() })
  .onShutdown({ name: 'kafka producer (flush)', run: () => producer.disconnect() })
  .onShutdown({ name: 'kafka admin', run: () => admin.disconnect() })
  .onShutdown({ name: 'clickhouse', run: () => clickhouse.close() });
if (tracing) lifecycle.onShutdown({ name: 'tracing (export the last spans)', run: () => tracing.shutdown() });

await aggregator.app.listen({ port: config.PORT, host: config.HOST });
await aggregator.start();
logger.info({ port: config.PORT, group: config.CONSUMER_GROUP }, 'aggregator ready');
