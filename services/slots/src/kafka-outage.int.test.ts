import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createKafka, createTopicsReady, decodeSlotMessage, type SlotBooking } from '@tower/shared';
import { eventually, eventuallyProgressing, test, testKafkaLogin, uniqueName } from '@tower/shared/testing';
import { standaloneKafkaSpec } from '../../../infra/local/servers.ts';
import { startServer, stopServer } from '../../../infra/local/supervisor.ts';
import { bearer, registerFleet, startSlots, testKeys } from './test-support.ts';

const windowMs = 30 * 60_000;

describe('slots across a Kafka outage', () => {
  test('Kafka stopped: 503 naming kafka, never a 2xx; the booking made in Redis is published by the outbox relay once Kafka is back', { timeout: 120_000 }, async ({ redis, clickhouse, logger, infra }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slots-kafka-outage-'));
    const spec = standaloneKafkaSpec(root, 27192, infra.credentials);
    await startServer(spec);
    const kafka = createKafka({ brokers: ['127.0.0.1:27192'], clientId: uniqueName('slots-outage'), logger, retries: 1, connectionTimeoutMs: 1000, requestTimeoutMs: 3000, login: testKafkaLogin(infra) });
    const admin = kafka.admin();
    await admin.connect();
    const topics = { slots: 'slots', trucks: 'trucks', deadLetter: 'dead' };
    await createTopicsReady(admin, Object.values(topics).map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })));
    await admin.disconnect();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { kafkaSendTimeoutMs: 3000, outboxGraceMs: 500 });
    try {
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const hold = (key: string, plate: string) =>
        slots.http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(testKeys.haiha), 'idempotency-key': key }, payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'textiles' } });
      await registerFleet(slots.http, testKeys.haiha, ['14C-770.01', '14C-770.02']);
      expect((await hold('outage-before', '14C-770.01')).statusCode).toBe(201);

      await stopServer(spec);
      const refused = await hold('outage-during', '14C-770.02');
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json()).toMatchObject({ dependency: 'kafka', detail: expect.stringMatching(/recorded .* will be published/) });
      expect(await slots.store.outboxLength()).toBeGreaterThanOrEqual(1);
      // The relay keeps trying while Kafka is down; nothing is lost from the outbox.
      await slots.relay.runOnce();
      expect(await slots.store.outboxLength()).toBeGreaterThanOrEqual(1);

      await startServer(spec);
      slots.relay.start();
      await eventuallyProgressing({ what: 'the outbox drained by the relay', progress: () => slots.store.outboxLength(), until: (left) => (left === 0 ? true : undefined), stallMs: 60_000 });
      // The retry, with the same key, returns the booking the first attempt made.
      const retried = await hold('outage-during', '14C-770.02');
      expect(retried.statusCode).toBe(200);
      const booking = retried.json<SlotBooking>();

      const consumer = kafka.consumer({ groupId: uniqueName('outage-reader'), maxWaitTimeInMs: 100 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: topics.slots, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => {
        const change = decodeSlotMessage(message.value ?? '');
        if (change.kind === 'booking') seen.push(change.booking.id);
      } });
      await eventually(async () => (seen.includes(booking.id) ? true : undefined), { what: 'the booking made during the outage on the topic', timeoutMs: 30_000 });
      await consumer.disconnect();
    } finally {
      await slots.close().catch(() => undefined);
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
