/**
 * The ingest service process: reads config, wires real Kafka and Redis (the eventId
 * record), serves HTTP, and on SIGTERM stops intake (HTTP closes and drains in-flight
 * batches), then flushes and disconnects the producer and closes Redis.
 */
import os from 'node:os';
import path from 'node:path';
import { EventCodec, clientPart, connectRedis, derivedOrExit, kafkaLoginOf, Lifecycle, createKafka, createLogger, createMetricsRegistry, createProducer, createRedis, loadCatalog, loadConfigOrExit, pingKafka, pingRedis, readinessOf, readDeviceRegistry, stopOnly, watchPart, type Part } from '@tower/shared';
import { Tracing } from '@tower/shared/tracing';
import { buildApp } from './app.ts';
import { ingestEnv } from './config.ts';
import { watchDeviceRegistry } from './device-registry-watch.ts';
import { DeviceRegistry } from './domain/devices.ts';
import { RedisEventIdLedger } from './event-id-ledger.ts';
import { KafkaThreadProducer } from './kafka-thread/producer.ts';
import { EventPublisher } from './publisher.ts';

const config = loadConfigOrExit('ingest', ingestEnv);

const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL });
const lifecycle = new Lifecycle(logger);
lifecycle.installSignalHandlers();
const tracing = await Tracing.start('ingest', config, logger);

const catalog = loadCatalog(path.resolve(config.CATALOG_FILE));
const devices = new DeviceRegistry(readDeviceRegistry(path.resolve(config.DEVICES_FILE)));
const kafkaSettings = { brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-ingest`, retries: 2, login: derivedOrExit('ingest', () => kafkaLoginOf(config)) };
const kafka = createKafka({ ...kafkaSettings, logger });
const metrics = createMetricsRegistry('ingest');
const producer = config.KAFKA_PRODUCER_THREAD ? new KafkaThreadProducer({ ...kafkaSettings, service: 'ingest', logLevel: config.LOG_LEVEL }, logger, { metrics }) : createProducer(kafka);
const admin = kafka.admin();
const redis = createRedis(config.REDIS_URL, { connectionName: `ingest-${os.hostname()}-${process.pid}`, logger, username: config.REDIS_USERNAME, password: config.REDIS_PASSWORD });
const kafkaLogin = { dependency: 'Kafka', user: config.KAFKA_SASL_USERNAME };
// Stopped in reverse: the watch, HTTP (intake ends, batches in flight drain), the producer (flush), the clients, tracing (the last spans).
const clients: Part[] = [
  ...(tracing ? [stopOnly('tracing (export the last spans)', () => tracing.shutdown())] : []),
  clientPart('redis', { dependency: 'Redis', user: config.REDIS_USERNAME, connect: () => connectRedis(redis), close: () => redis.quit(), ping: () => pingRedis(redis) }),
  clientPart('kafka', { ...kafkaLogin, connect: () => admin.connect(), close: () => admin.disconnect(), ping: () => pingKafka(admin) }),
  clientPart('kafka producer (flush)', { ...kafkaLogin, connect: () => producer.connect(), close: () => producer.disconnect() }),
];

const deviceWatch = watchPart('device registry watch', () => watchDeviceRegistry(path.resolve(config.DEVICES_FILE), devices, logger, config.DEVICES_RELOAD_MS));

const { parts } = await buildApp({
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
  metrics,
  readiness: readinessOf(clients),
  tracing,
  listen: { port: config.PORT, host: config.HOST },
});
await lifecycle.startOrExit('ingest', [...clients, ...parts, deviceWatch]);
logger.info({ port: config.PORT, devices: devices.size, catalogVersion: catalog.version }, 'ingest ready');
