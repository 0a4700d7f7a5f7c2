/** The real ingest API on a test's own topics, with one gateway device per site. */
import type { Admin, Kafka } from 'kafkajs';
import { EventCodec, createMetricsRegistry, createProducer, hashSecret, Lifecycle, loadCatalog, type FamilyName, type Logger, type TowerProducer } from '@tower/shared';
import type { IsolatedClickHouse } from '@tower/shared/testing';
import { createAggregatorTopics, migrate, startAggregator } from '../../services/aggregator/src/test-support.ts';
import { buildApp } from '../../services/ingest/src/app.ts';
import { DeviceRegistry } from '../../services/ingest/src/domain/devices.ts';
import type { EventIdentityLedger } from '../../services/ingest/src/domain/event-identity.ts';
import { EventPublisher } from '../../services/ingest/src/publisher.ts';
import { testEventIdLedger } from '../../services/ingest/src/test-support.ts';

const catalog = loadCatalog();
const secret = 'integration-test-device-secret-0123';

/** `<device>.<secret>` per site, as the simulator's sender wants them. */
export const deviceKeysBySite = new Map(catalog.document.sites.map((s) => [s.id, `${s.code}-gw-1.${secret}`]));

const devices = new DeviceRegistry(catalog.document.sites.map((s) => ({ id: `${s.code}-gw-1`, site: s.id, keySha256: hashSecret(secret), enabled: true })));

/** `eventIds`: the eventId record to use; by default one of its own on the test Redis, closed with the app. */
export async function startIngest(deps: { producer: TowerProducer; logger: Logger; topics: Record<FamilyName, string>; eventIds?: EventIdentityLedger }, port = 0) {
  const eventIds = deps.eventIds ? { ledger: deps.eventIds, close: async () => undefined } : await testEventIdLedger(deps.logger);
  const { app, parts } = await buildApp({
    settings: { maxBatchEvents: 1000, bodyLimitBytes: 8 * 1024 * 1024, deviceRatePerSecond: 100_000, deviceBurstEvents: 100_000 },
    logger: deps.logger,
    catalog,
    devices,
    eventIds: eventIds.ledger,
    publisher: new EventPublisher(deps.producer, new EventCodec(), 10_000, deps.topics),
    metrics: createMetricsRegistry('ingest-test'),
    readiness: [],
    listen: { port, host: '127.0.0.1' },
  });
  app.addHook('onClose', eventIds.close);
  await new Lifecycle(deps.logger).start(parts);
  return app;
}

/**
 * The write path on a test's own topics and database: migrations applied, the ingest
 * API (default eventId record) and a real aggregator consuming what it writes.
 */
export async function startIngestToClickHouse(deps: { kafka: Kafka; admin: Admin; logger: Logger; createTopic: (options?: { partitions?: number }) => Promise<string>; clickhouse: IsolatedClickHouse }) {
  await migrate(deps.clickhouse.settings);
  const topics = await createAggregatorTopics(deps.createTopic);
  const producer = createProducer(deps.kafka);
  await producer.connect();
  const ingest = await startIngest({ producer, logger: deps.logger, topics: topics.events });
  const aggregator = await startAggregator({ ...deps, topics });
  return {
    topics,
    producer,
    ingest,
    aggregator,
    async close() {
      await aggregator.close();
      await ingest.close();
      await producer.disconnect();
    },
  };
}
