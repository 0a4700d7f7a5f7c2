/**
 * The ingest service process: reads config, wires real Kafka and Redis (the eventId
 * record), serves HTTP, and on SIGTERM stops intake (HTTP closes and drains in-flight
 * batches), then flushes and disconnects the producer and closes Redis.
 */
import os from 'node:os';
import path from 'node:path';
import { EventCodec, connectOrExit, connectRedis, derivedOrExit, kafkaLoginOf, Lifecycle, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, loadCatalog, loadConfigOrExit, pingKafka, pingRedis, readDeviceRegistry } from '@tower/shared';
import { Tracing } from '@tower/shared/tracing';
import { buildApp } from './app.ts';
import { ingestEnv } from './config.ts';
import { watchDeviceRegistry } from './device-registry-watch.ts';
import { DeviceRegistry } from './domain/devices.ts';
import { RedisEventIdLedger } from './event-id-ledger.ts';
import { EventPublisher } from './publisher.ts';

const config = loadConfigOrExit('ingest', ingestEnv);

const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();
const tracing = await Tracing.start('ingest', config, logger);

const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const devices = new DeviceRegistry(readDeviceRegistry(path.resolve(config.DEVICES_FILE)));
const stopWatchingDevices = watchDeviceRegistry(path.resolve(config.DEVICES_FILE), devices, logger, config.DEVICES_RELOAD_MS);
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-ingest`, logger, retries: 2, login: derivedOrExit('ingest', () => kafkaLoginOf(config)) });
const producer = createProducer(kafka);
const admin = kafka.admin();
const redis = createRedis(config.REDIS_URL, { connectionName: `ingest-${os.hostname()}-${process.pid}`, logger, username: config.REDIS_USERNAME, password: config.REDIS_PASSWORD });
await connectOrExit('ingest', 'Kafka', config.KAFKA_SASL_USERNAME, () => Promise.all([producer.connect(), admin.connect()]));
await connectOrExit('ingest', 'Redis', config.REDIS_USERNAME, () => connectRedis(redis));

const app = await buildApp({
  settings: {
    maxBatchEvents: config.MAX_BATCH_EVENTS,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    deviceRatePerSecond: config.DEVICE_RATE_EVENTS_PER_SECOND,
    deviceBurstEvents: config.DEVICE_BURST_EVENTS,
  },
  logger,
  catalog,
  devices,
  eventIds: new RedisEventIdLedger(redis, config.EVENT_ID_RETENTION_HOURS * 3600),
  publisher: new EventPublisher(producer, new EventCodec(), config.KAFKA_SEND_TIMEOUT_MS, { truck: config.TOPIC_TRUCKS, container: config.TOPIC_CONTAINERS, lane: config.TOPIC_LANES }),
  metrics: createMetricsRegistry('ingest'),
  readiness: [
    { name: 'kafka', check: () => pingKafka(admin) },
    { name: 'redis', check: () => pingRedis(redis) },
  ],
  tracing,
});

lifecycle
  .onShutdown({ name: 'device registry watch', run: async () => stopWatchingDevices() })
  .onShutdown({ name: 'http (stop intake, drain in-flight batches)', run: () => app.close(), timeoutMs: 15_000 })
  .onShutdown({ name: 'kafka producer (flush)', run: () => producer.disconnect() })
  .onShutdown({ name: 'kafka admin', run: () => admin.disconnect() })
  .onShutdown({ name: 'redis', run: async () => void (await redis.quit()) });
if (tracing) lifecycle.onShutdown({ name: 'tracing (export the last spans)', run: () => tracing.shutdown() });

await app.listen({ port: config.PORT, host: config.HOST });
logger.info({ port: config.PORT, devices: devices.size, catalogVersion: catalog.version }, 'ingest ready');
