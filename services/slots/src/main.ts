/**
 * The slots service: reads config, and either runs everything in this process
 * (SLOTS_API_PROCESSES=1, or one CPU core) or becomes the primary of N API processes
 * sharing the port and one duties process (cluster/primary.ts), which run this file
 * again in their role. A process wires Redis (live slot state), Kafka (slot changes out,
 * truck events in) and ClickHouse (history), runs its parts (the API, the consumers and
 * background work, or both), and on SIGTERM stops intake (HTTP finishes requests in
 * flight), stops the sweeper and the consumers (offsets committed), publishes what is
 * left in the outbox and closes the clients.
 */
import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, checkClickHouseLogin, clientPart, connectRedis, createClickHouse, derivedOrExit, kafkaLoginOf, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, Lifecycle, loadCatalog, loadConfigOrExit, pingKafka, loadCapacityPlan, readAccessRegistry, readinessOf } from '@tower/shared';
import { buildSlots } from './app.ts';
import { currentRole, indexEnv, type SlotsRole } from './cluster/messages.ts';
import { runPrimary } from './cluster/primary.ts';
import { joinCluster } from './cluster/worker.ts';
import { checkedApiProcesses, ledgerRulesOf, slotsEnv, webhookSettingsOf } from './config.ts';

const config = loadConfigOrExit('slots', slotsEnv);
const apiProcesses = derivedOrExit('slots', () => checkedApiProcesses(config));
const role = apiProcesses > 1 ? currentRole() : 'all';
const logger = createLogger({ service: 'slots', level: config.LOG_LEVEL }).child(apiProcesses > 1 ? { process: cluster.isPrimary ? 'primary' : `${role} ${process.env[indexEnv] ?? ''}`.trim() } : {});
if (apiProcesses > 1 && cluster.isPrimary) runPrimary({ apiProcesses, restartInitialMs: 500, restartMaxMs: 30_000 }, logger);
else await serve(role);

async function serve(role: SlotsRole): Promise<void> {
  const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
  const rules = derivedOrExit('slots', () => ledgerRulesOf(config));
  const plan = derivedOrExit('slots', () => loadCapacityPlan(catalog.document, config.CAPACITY_PLAN_FILE ? path.resolve(config.CAPACITY_PLAN_FILE) : undefined));

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

  const share = role === 'all' ? 1 : apiProcesses;
  const metrics = createMetricsRegistry('slots');
  const worker = joinCluster(role, metrics);
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
      // Each API process holds its share of a key's budget: N processes together allow the configured rate, never N times it.
      rateLimit: { perSecond: config.RATE_PER_SECOND / share, burst: config.RATE_BURST / share },
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
    metrics,
    readiness: [...readinessOf(clients), ...worker.readiness],
    listen: { port: config.PORT, host: config.HOST },
  });
  worker.instrument(slots.http);
  const parts = role === 'api' ? [slots.api] : role === 'duties' ? slots.duties : slots.parts;
  await lifecycle.startOrExit('slots', [...clients, ...parts]);
  worker.started();

  logger.info({ port: config.PORT, role, windowMinutes: config.SLOT_WINDOW_MINUTES, catalogVersion: catalog.version }, 'slots ready');
}
