/**
 * The slots service process: reads config, wires Redis (live slot state), Kafka (slot
 * changes out, truck events in) and ClickHouse (history), serves the API, and on
 * SIGTERM stops intake (HTTP finishes requests in flight), stops the sweeper and the
 * consumers (offsets committed), publishes what is left in the outbox and closes the
 * clients.
 */
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, checkClickHouseLogin, clientPart, connectRedis, createClickHouse, derivedOrExit, kafkaLoginOf, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, Lifecycle, loadCatalog, loadConfigOrExit, pingKafka, loadCapacityPlan, readAccessRegistry, readinessOf } from '@tower/shared';
import { buildSlots } from './app.ts';
import { ledgerRulesOf, slotsEnv, webhookSettingsOf } from './config.ts';

const config = loadConfigOrExit('slots', slotsEnv);
const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const rules = derivedOrExit('slots', () => ledgerRulesOf(config));
const plan = derivedOrExit('slots', () => loadCapacityPlan(catalog.document, config.CAPACITY_PLAN_FILE ? path.resolve(config.CAPACITY_PLAN_FILE) : undefined));

const logger = createLogger({ service: 'slots', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const access = new AccessRegistry(readAccessRegistry(path.resolve(config.ACCESS_FILE)));
const redis = createRedis(config.REDIS_URL, { connectionName: `slots-${os.hostname()}-${process.pid}`, logger, username: config.REDIS_USERNAME, password: config.REDIS_PASSWORD });
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-slots`, logger, retries: 2, login: derivedOrExit('slots', () => kafkaLoginOf(config)) });
const producer = createProducer(kafka);
const admin = kafka.admin();
const clickhouse = createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger });
const kafkaLogin = { dependency: 'Kafka', user: config.KAFKA_SASL_USERNAME };
// Closed last, in reverse: the producer (flushed), the admin, Redis, ClickHouse.
const clients = [
  clientPart('clickhouse', { dependency: 'ClickHouse', user: config.CLICKHOUSE_USER, connect: () => checkClickHouseLogin(clickhouse), close: () => clickhouse.close() }),
  clientPart('redis', { dependency: 'Redis', user: config.REDIS_USERNAME, connect: () => connectRedis(redis), close: () => redis.quit() }),
  clientPart('kafka', { ...kafkaLogin, connect: () => admin.connect(), close: () => admin.disconnect(), ping: () => pingKafka(admin) }),
  clientPart('kafka producer (flush)', { ...kafkaLogin, connect: () => producer.connect(), close: () => producer.disconnect() }),
];

const slots = await buildSlots({
  settings: {
    rules,
    plan,
    retentionMs: config.RETENTION_DAYS * 86_400_000,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
    outboxRelayMs: config.OUTBOX_RELAY_MS,
    outboxGraceMs: config.OUTBOX_GRACE_MS,
    kafkaSendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
    maxRangeMs: config.MAX_RANGE_DAYS * 86_400_000,
    maxBookings: config.MAX_BOOKINGS,
    maxBatchItems: config.BATCH_MAX_ITEMS,
    horizonMs: config.BOOKING_HORIZON_DAYS * 86_400_000,
    rateLimit: { perSecond: config.RATE_PER_SECOND, burst: config.RATE_BURST },
    topics: { slots: config.TOPIC_SLOTS, trucks: config.TOPIC_TRUCKS, deadLetter: config.TOPIC_DEADLETTER },
    groups: { checkIn: `${config.CONSUMER_GROUP_PREFIX}-check-in`, history: `${config.CONSUMER_GROUP_PREFIX}-history` },
    webhooks: webhookSettingsOf(config),
    liveUrl: config.LIVE_URL,
  },
  logger,
  catalog,
  access,
  redis,
  kafka,
  producer,
  clickhouse,
  metrics: createMetricsRegistry('slots'),
  readiness: readinessOf(clients),
  listen: { port: config.PORT, host: config.HOST },
});
await lifecycle.startOrExit('slots', [...clients, ...slots.parts]);

logger.info({ port: config.PORT, windowMinutes: config.SLOT_WINDOW_MINUTES, catalogVersion: catalog.version }, 'slots ready');
