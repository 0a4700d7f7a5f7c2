/**
 * The Smart Operations Center process: reads config, wires ClickHouse and the tick feed
 * from Kafka, serves the history API and the live gateway, and on SIGTERM closes the
 * sockets (1001: clients reconnect to another instance and resume), stops the feed,
 * lets HTTP requests in flight finish and closes the clients.
 */
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, Lifecycle, createClickHouse, createKafka, createLogger, createMetricsRegistry, loadCatalog, loadConfigOrExit, pingClickHouse, readAccessRegistry } from '@tower/shared';
import { buildApp } from './app.ts';
import { liveEnv } from './config.ts';
import { LiveHub } from './gateway/hub.ts';
import { TickFeed } from './gateway/tick-feed.ts';

const config = loadConfigOrExit('live', liveEnv);

const logger = createLogger({ service: 'live', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();

const epoch = `${os.hostname()}-${process.pid}-${Date.now().toString(36)}`;
const hub = new LiveHub(epoch, { resumeBufferDeltas: config.RESUME_BUFFER_DELTAS, idleStreamMs: 10 * 60_000, boardHorizonMs: 3_600_000 });
const clickhouse = createClickHouse({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE, logger });
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-live`, logger });
const feed = new TickFeed(kafka, config.TOPIC_THROUGHPUT, `tower-live-${epoch}`, hub, logger);

const live = await buildApp({
  settings: {
    history: {
      maxBuckets: config.HISTORY_MAX_BUCKETS,
      journeyLookbackDays: config.JOURNEY_LOOKBACK_DAYS,
      clearanceTargetMs: config.CLEARANCE_TARGET_MS,
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
    },
    kpis: { refreshMs: config.KPI_REFRESH_MS, maxAgeMs: config.KPI_MAX_AGE_MS },
    wallDirectory: path.resolve(config.WALL_DIR),
  },
  logger,
  catalog: loadCatalog(path.resolve(config.CATALOG_FILE)),
  clickhouse,
  access: new AccessRegistry(readAccessRegistry(path.resolve(config.ACCESS_FILE))),
  hub,
  metrics: createMetricsRegistry('live'),
  readiness: [
    { name: 'clickhouse', check: () => pingClickHouse(clickhouse) },
    {
      name: 'ticks',
      check: async () => {
        if (!feed.ready) throw new Error(`not yet reading ${config.TOPIC_THROUGHPUT}`);
      },
    },
  ],
});

lifecycle
  .onShutdown({ name: 'websockets (1001, clients resume elsewhere)', run: () => live.closeGateway() })
  .onShutdown({ name: 'http (finish requests in flight)', run: () => live.app.close() })
  .onShutdown({ name: 'tick feed', run: () => feed.stop() })
  .onShutdown({ name: 'clickhouse', run: () => clickhouse.close() });

await live.app.listen({ port: config.PORT, host: config.HOST });
await feed.start();
live.kpiBoard.start();
logger.info({ port: config.PORT, epoch }, 'Smart Operations Center ready');
