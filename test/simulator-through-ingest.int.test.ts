/** End-to-end: services composed together; the only place where one service meets another in code. */
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { EventCodec, createProducer, loadCatalog, type TowerEvent } from '@tower/shared';
import { atLeast, eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';
import { IngestSender } from '../services/simulator/src/sender.ts';
import { deviceKeysBySite, startIngest } from './support/ingest.ts';

const catalog = loadCatalog();

describe('simulator through the real ingest API into real Kafka', () => {
  test('every simulated event lands in Kafka, and nothing is lost while the ingest API is down', async ({ kafka, logger, createTopic }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const producer = createProducer(kafka);
    await producer.connect();
    const codec = new EventCodec();
    const startIngestApi = (port = 0) => startIngest({ producer, logger, topics }, port);

    // Reserve a port, then leave it closed: the ingest API is down.
    const probe = await startIngestApi();
    const port = (probe.server.address() as AddressInfo).port;
    await probe.close();

    const start = Date.now() - 30 * 60_000;
    const simulation = new TrafficSimulation(catalog, { seed: 42, rate: 20, start });
    const events: TowerEvent[] = simulation.advanceTo(Date.now());
    expect(events.length).toBeGreaterThan(500);
    const sender = new IngestSender(`http://127.0.0.1:${port}`, deviceKeysBySite, 500, logger);
    sender.enqueue(events);
    await sender.flush();
    expect(sender.stats.retries).toBeGreaterThan(0);
    expect(sender.buffered).toBe(events.length);

    const ingest = await startIngestApi(port);
    const deliver = new IngestSender(`http://127.0.0.1:${port}`, deviceKeysBySite, 500, logger);
    deliver.enqueue(events);
    await eventuallyProgressing({ what: 'buffer to drain', progress: async () => (await deliver.flush(), deliver.buffered), until: (buffered) => (buffered === 0 ? true : undefined) });
    expect(deliver.stats).toMatchObject({ sent: events.length, rejected: 0 });
    await ingest.close();
    await producer.disconnect();

    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: uniqueName('sim-verify') });
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(codec.decode(message.value as Buffer).event.eventId) });
    await eventuallyProgressing({ what: 'every event in Kafka', progress: () => seen.size, until: atLeast(events.length) });
    await consumer.disconnect();
    expect(events.every((e) => seen.has(e.eventId))).toBe(true);
  });
});
