/** End-to-end: services composed together; the only place where one service meets another in code. */
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { EventCodec, createMetricsRegistry, createProducer, hashSecret, loadCatalog, type TowerEvent } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { buildApp as buildIngest } from '../services/ingest/src/app.ts';
import { DeviceRegistry } from '../services/ingest/src/domain/devices.ts';
import { EventPublisher } from '../services/ingest/src/publisher.ts';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';
import { IngestSender } from '../services/simulator/src/sender.ts';

const catalog = loadCatalog();
const secret = 'simulator-integration-secret-0123';
const sites = catalog.document.sites;
const keysBySite = new Map(sites.map((s) => [s.id, `${s.code}-gw-1.${secret}`]));
const devices = new DeviceRegistry(sites.map((s) => ({ id: `${s.code}-gw-1`, site: s.id, keySha256: hashSecret(secret), enabled: true })));

describe('simulator through the real ingest API into real Kafka', () => {
  test('every simulated event lands in Kafka, and nothing is lost while the ingest API is down', async ({ kafka, logger, createTopic }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const producer = createProducer(kafka);
    await producer.connect();
    const codec = new EventCodec();
    const startIngest = async (port = 0) => {
      const app = await buildIngest({
        settings: { maxBatchEvents: 1000, bodyLimitBytes: 8 * 1024 * 1024, deviceRatePerSecond: 100_000, deviceBurstEvents: 100_000 },
        logger,
        catalog,
        devices,
        publisher: new EventPublisher(producer, codec, 10_000, topics),
        metrics: createMetricsRegistry('ingest-test'),
        readiness: [],
      });
      await app.listen({ port, host: '127.0.0.1' });
      return app;
    };

    // Reserve a port, then leave it closed: the ingest API is down.
    const probe = await startIngest();
    const port = (probe.server.address() as AddressInfo).port;
    await probe.close();

    const start = Date.now() - 30 * 60_000;
    const simulation = new TrafficSimulation(catalog, { seed: 42, rate: 20, start });
    const events: TowerEvent[] = simulation.advanceTo(Date.now());
    expect(events.length).toBeGreaterThan(500);
    const sender = new IngestSender(`http://127.0.0.1:${port}`, keysBySite, 500, logger);
    sender.enqueue(events);
    await sender.flush();
    expect(sender.stats.retries).toBeGreaterThan(0);
    expect(sender.buffered).toBe(events.length);

    const ingest = await startIngest(port);
    const deliver = new IngestSender(`http://127.0.0.1:${port}`, keysBySite, 500, logger);
    deliver.enqueue(events);
    await eventually(async () => (await deliver.flush(), deliver.buffered === 0 ? true : undefined), { timeoutMs: 30_000, what: 'buffer to drain' });
    expect(deliver.stats).toMatchObject({ sent: events.length, rejected: 0 });
    await ingest.close();
    await producer.disconnect();

    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: uniqueName('sim-verify') });
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(codec.decode(message.value as Buffer).event.eventId) });
    await eventually(async () => (seen.size >= events.length ? true : undefined), { timeoutMs: 30_000, what: 'every event in Kafka' });
    await consumer.disconnect();
    expect(events.every((e) => seen.has(e.eventId))).toBe(true);
  });
});
