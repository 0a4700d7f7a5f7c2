/**
 * The slots service: reads config, and either runs everything in this process
 * (SLOTS_API_PROCESSES=1, or one CPU core) or becomes the primary of N API processes
 * sharing the port and one duties process (cluster/primary.ts), which run this file
 * again in their role. A process wires Redis (live slot state), Kafka (slot changes out,
 * truck events in) and ClickHouse (history), runs its parts (the API, the consumers and
 * background work, or both), and on SIGTERM (a forked process: on the primary's order)
 * stops intake (no new connections; what still arrives on an open one is answered with
 * `Connection: close`, idle keep-alive connections are closed after a grace, requests in
 * flight finish: cluster/drain.ts), stops the sweeper and the consumers (offsets
 * committed), publishes what is left in the outbox and closes the clients.
 */
import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, checkClickHouseLogin, clientPart, connectRedis, createClickHouse, derivedOrExit, kafkaLoginOf, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, Lifecycle, loadCatalog, loadConfigOrExit, pingKafka, loadCapacityPlan, readAccessRegistry, readinessOf } from '@tower/shared';
import { buildSlots } from './app.ts';
import { drainingHttpPart } from './cluster/drain.ts';
import { currentRole, indexEnv, stopShareMs, type SlotsRole } from './cluster/messages.ts';
import { runPrimary } from './cluster/primary.ts';
import { joinCluster, stopOnPrimaryOrder } from './cluster/worker.ts';
import { apiProcessesOf, ledgerRulesOf, slotsEnv, webhookSettingsOf } from './config.ts';

const config = loadConfigOrExit('slots', slotsEnv);
const apiProcesses = apiProcessesOf(config.SLOTS_API_PROCESSES);
const role = apiProcesses > 1 ? currentRole() : 'all';
const logger = createLogger({ service: 'slots', level: config.LOG_LEVEL }).child(apiProcesses > 1 ? { process: cluster.isPrimary ? 'primary' : `${role} ${process.env[indexEnv] ?? ''}`.trim() } : {});
if (apiProcesses > 1 && cluster.isPrimary) runPrimary({ apiProcesses, restartInitialMs: 500, restartMaxMs: 30_000, scrapeTimeoutMs: 2000 }, logger);
else await serve(role);

async function serve(role: SlotsRole): Promise<void> {
  const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
  const rules = derivedOrExit('slots', () => ledgerRulesOf(config));
  const plan = derivedOrExit('slots', () => loadCapacityPlan(catalog.document, config.CAPACITY_PLAN_FILE ? path.resolve(config.CAPACITY_PLAN_FILE) : undefined));

  // A forked process stops within its phase's share (the primary kills it past that), on the primary's order only.
  const lifecycle = new Lifecycle(logger, role === 'all' ? {} : { stopDeadlineMs: stopShareMs[role] - 1000 });
  if (role === 'all') lifecycle.installSignalHandlers();
  else stopOnPrimaryOrder(() => lifecycle.installSignalHandlers(), logger);

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

  const listen = { port: config.PORT, host: config.HOST };
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
      // Several API processes share each key's bucket in Redis: whole across them, never N times it.
      rateLimit: { perSecond: config.RATE_PER_SECOND, burst: config.RATE_BURST, apiProcesses: role === 'all' ? 1 : apiProcesses },
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
    listen,
  });
  worker.instrument(slots.http);
  const api = drainingHttpPart(slots.api.name, slots.http, listen);
  const parts = role === 'api' ? [api] : role === 'duties' ? slots.duties : [...slots.duties, api];
  await lifecycle.startOrExit('slots', [...clients, ...parts]);
  worker.started();

  logger.info({ port: config.PORT, role, windowMinutes: config.SLOT_WINDOW_MINUTES, catalogVersion: catalog.version }, 'slots ready');
}
