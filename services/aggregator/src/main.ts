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
  clientPart,
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
  readinessOf,
  stopOnly,
  type Part,
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
const kafkaLogin = { dependency: 'Kafka', user: config.KAFKA_SASL_USERNAME };
// Closed last, in reverse: the producer (flushed), the admin, ClickHouse, tracing (the last spans).
const clients: Part[] = [
  ...(tracing ? [stopOnly('tracing (export the last spans)', () => tracing.shutdown())] : []),
  clientPart('clickhouse', { dependency: 'ClickHouse', user: config.CLICKHOUSE_USER, connect: () => checkClickHouseLogin(clickhouse), close: () => clickhouse.close(), ping: () => pingClickHouse(clickhouse) }),
  clientPart('kafka', { ...kafkaLogin, connect: () => admin.connect(), close: () => admin.disconnect(), ping: () => pingKafka(admin) }),
  clientPart('kafka producer (flush)', { ...kafkaLogin, connect: () => producer.connect(), close: () => producer.disconnect() }),
];

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
  readiness: readinessOf(clients),
  topics: {
    events: { truck: config.TOPIC_TRUCKS, container: config.TOPIC_CONTAINERS, lane: config.TOPIC_LANES },
    deadLetter: config.TOPIC_DEADLETTER,
    throughput: config.TOPIC_THROUGHPUT,
    journeys: config.TOPIC_JOURNEYS,
  },
  tracing,
  listen: { port: config.PORT, host: config.HOST },
});
await lifecycle.startOrExit('aggregator', [...clients, ...aggregator.parts]);
logger.info({ port: config.PORT, group: config.CONSUMER_GROUP }, 'aggregator ready');
