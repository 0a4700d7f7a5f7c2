/**
 * The Smart Operations Center process: reads config, wires ClickHouse and the tick feed
 * from Kafka, serves the history API and the live gateway, and on SIGTERM closes the
 * sockets (1001: clients reconnect to another instance and resume), stops the feed,
 * lets HTTP requests in flight finish and closes the clients.
 */
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, checkClickHouseLogin, clientPart, consumerReadiness, connectRedis, derivedOrExit, kafkaLoginOf, Lifecycle, createClickHouse, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, loadCapacityPlan, loadCatalog, loadConfigOrExit, pingClickHouse, pingRedis, readAccessRegistry, readinessOf, stopOnly, watchPart, type ClickHouseClient, type Part } from '@tower/shared';
import { Tracing } from '@tower/shared/tracing';
import { watchAccessRegistry } from './access-registry-watch.ts';
import { buildApp } from './app.ts';
import { conditionThresholdsOf, gatewayLimitsOf, liveEnv, tileThresholdsOf } from './config.ts';
import { LiveHub } from './gateway/hub.ts';
import { alertFeed, journeyFeed, slotFeed, tickFeed, type BroadcastFeed } from './gateway/broadcast-feed.ts';
import { defaultAlertThresholds } from './domain/alerts.ts';

const config = loadConfigOrExit('live', liveEnv);
const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const plan = derivedOrExit('live', () => loadCapacityPlan(catalog.document, config.CAPACITY_PLAN_FILE ? path.resolve(config.CAPACITY_PLAN_FILE) : undefined));

const logger = createLogger({ service: 'live', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();
const tracing = await Tracing.start('live', config, logger);

const epoch = `${os.hostname()}-${process.pid}-${Date.now().toString(36)}`;
const hub = new LiveHub(epoch, { resumeBufferDeltas: config.RESUME_BUFFER_DELTAS, idleStreamMs: 10 * 60_000, boardHorizonMs: 3_600_000 });
const clickhouse = createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger });
// The alert history is the one table the gateway writes: its own (writer) login, the rest reads as the read-only user.
const alertLogClickhouse = config.CLICKHOUSE_ALERT_LOG_USER
  ? createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_ALERT_LOG_USER, password: config.CLICKHOUSE_ALERT_LOG_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger })
  : clickhouse;
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-live`, logger, login: derivedOrExit('live', () => kafkaLoginOf(config)) });
const metrics = createMetricsRegistry('live');
// Each feed's lag (behind its topic's end) is in /metrics under its stable name.
const feeds: BroadcastFeed[] = [
  tickFeed(kafka, config.TOPIC_THROUGHPUT, 'tower-live-ticks', hub, logger, { metrics, tracing }),
  alertFeed(kafka, config.TOPIC_ALERTS, 'tower-live-alerts', hub, logger, { metrics }),
  journeyFeed(kafka, config.TOPIC_JOURNEYS, 'tower-live-journeys', hub, logger, { metrics }),
];
const redis = createRedis(config.REDIS_URL, { connectionName: `live-${epoch}`, logger, username: config.REDIS_USERNAME, password: config.REDIS_PASSWORD });
const producer = createProducer(kafka);
const access = new AccessRegistry(readAccessRegistry(path.resolve(config.ACCESS_FILE)));
const clickhouseLogin = (client: ClickHouseClient, user: string) => ({ dependency: 'ClickHouse', user, connect: () => checkClickHouseLogin(client), close: () => client.close() });
// Closed last, in reverse: the producer (alert changes flushed), Redis, ClickHouse, tracing (the last spans).
const clients: Part[] = [
  ...(tracing ? [stopOnly('tracing (export the last spans)', () => tracing.shutdown())] : []),
  clientPart('clickhouse', { ...clickhouseLogin(clickhouse, config.CLICKHOUSE_USER), ping: () => pingClickHouse(clickhouse) }),
  ...(alertLogClickhouse !== clickhouse ? [clientPart('clickhouse (alert log)', clickhouseLogin(alertLogClickhouse, config.CLICKHOUSE_ALERT_LOG_USER))] : []),
  clientPart('redis', { dependency: 'Redis', user: config.REDIS_USERNAME, connect: () => connectRedis(redis), close: () => redis.quit(), ping: () => pingRedis(redis) }),
  clientPart('kafka producer (flush alert changes)', { dependency: 'Kafka', user: config.KAFKA_SASL_USERNAME, connect: () => producer.connect(), close: () => producer.disconnect() }),
];

const live = await buildApp({
  settings: {
    history: {
      maxBuckets: config.HISTORY_MAX_BUCKETS,
      journeyLookbackDays: config.JOURNEY_LOOKBACK_DAYS,
      tiles: tileThresholdsOf(config),
      queueFreshMs: config.QUEUE_SAMPLE_FRESH_MS,
      laneStateLookbackDays: config.LANE_STATE_LOOKBACK_DAYS,
    },
    gateway: {
      allowedOrigins: config.ALLOWED_ORIGINS,
      maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: config.WS_PING_INTERVAL_MS,
      maxSubscriptions: config.WS_MAX_SUBSCRIPTIONS,
      softQueueBytes: config.WS_SOFT_QUEUE_BYTES,
      hardQueueBytes: config.WS_HARD_QUEUE_BYTES,
      slowCloseMs: config.WS_SLOW_CLOSE_MS,
      ...gatewayLimitsOf(config),
    },
    // The leader's stored round outlives its alert rounds (a read every one or two ALERT_EVALUATE_MS) and a few refreshes.
    kpis: { refreshMs: config.KPI_REFRESH_MS, maxAgeMs: config.KPI_MAX_AGE_MS, fallbackMs: Math.max(3 * config.KPI_REFRESH_MS, 3 * config.ALERT_EVALUATE_MS) },
    journeys: { activeMs: 3_600_000, lookbackMs: 6 * 3_600_000, maxJourneys: config.LIVE_JOURNEYS_MAX },
    slots: { plan, windowMs: config.SLOT_WINDOW_MINUTES * 60_000, horizonMs: config.LIVE_SLOT_HOURS * 3_600_000, bookingsLookbackMs: 86_400_000, bookingsAheadMs: 7 * 86_400_000, maxBookings: config.LIVE_BOOKINGS_MAX },
    // The stored slot windows are read again every 10 minutes: what the feed missed while this instance started heals.
    conditions: { thresholds: conditionThresholdsOf(config), windowMs: config.SLOT_WINDOW_MINUTES * 60_000, redisTtlMs: config.CONDITIONS_REDIS_TTL_MS, reseedMs: 10 * 60_000 },
    wallDirectory: path.resolve(config.WALL_DIR),
    alerts: {
      topic: config.TOPIC_ALERTS,
      recentMs: config.ALERT_RECENT_HOURS * 3_600_000,
      evaluateMs: config.ALERT_EVALUATE_MS,
      clearAfterMs: config.ALERT_CLEAR_AFTER_MS,
      leaseMs: config.ALERT_LEASE_MS,
      thresholds: {
        ...defaultAlertThresholds,
        queueWarningVehicles: config.ALERT_QUEUE_WARNING,
        queueCriticalVehicles: config.ALERT_QUEUE_CRITICAL,
      },
    },
  },
  logger,
  catalog,
  clickhouse,
  alertLogClickhouse,
  redis,
  producer,
  access,
  hub,
  metrics,
  readiness: [...readinessOf(clients), consumerReadiness('feeds', () => feeds)],
  listen: { port: config.PORT, host: config.HOST },
});

feeds.push(slotFeed(kafka, config.TOPIC_SLOTS, 'tower-live-slots', hub, live.slotBoard, logger, { metrics }));
// The feeds start and stop together: the hub is fed before HTTP listens, and HTTP has finished before they stop.
const feedsPart: Part = {
  name: 'feeds (and their lag)',
  start: async () => void (await Promise.all(feeds.map((feed) => feed.start()))),
  stop: async () => void (await Promise.all(feeds.map((feed) => feed.stop()))),
};
const accessWatch = watchPart('access registry watch', () => watchAccessRegistry(path.resolve(config.ACCESS_FILE), access, logger, config.ACCESS_RELOAD_MS));
await lifecycle.startOrExit('live', [...clients, feedsPart, ...live.parts, accessWatch]);

logger.info({ port: config.PORT, epoch }, 'Smart Operations Center ready');
