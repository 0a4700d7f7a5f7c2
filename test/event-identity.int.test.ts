/**
 * Event identity end to end (issue 13, defect 7): an eventId reused for different
 * content is never counted twice, even when the copies are keyed to different
 * partitions (where the aggregator's per-partition duplicate check cannot see both).
 */
import type { FastifyInstance } from 'fastify';
import { Partitioners } from 'kafkajs';
import { describe, expect } from 'vitest';
import { createProducer, createRedis, type TruckEvent } from '@tower/shared';
import { atLeast, eventuallyProgressing, sampleEvents, test } from '@tower/shared/testing';
import { eventIdConflict } from '../services/ingest/src/domain/event-identity.ts';
import { RedisEventIdLedger } from '../services/ingest/src/event-id-ledger.ts';
import { testEventIdLedger } from '../services/ingest/src/test-support.ts';
import { queryRows, storedCounts } from '../services/aggregator/src/test-support.ts';
import { deviceKeysBySite, startIngest, startIngestToClickHouse } from './support/ingest.ts';

const authorization = `Bearer ${deviceKeysBySite.get('bac-luan-2')}`;
const post = (app: FastifyInstance, events: unknown[]) =>
  app.inject({ method: 'POST', url: '/v1/events', headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(events) });

/** Two valid plates that KafkaJS's default partitioner puts on different partitions of a 3-partition topic. */
function platesOnDifferentPartitions(): [string, string] {
  const partitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const plates = Array.from({ length: 20 }, (_, i) => `14C-123.${String(10 + i)}`);
  const first = plates[0]!;
  const at = (plate: string) => partitionOf({ topic: 'trucks', partitionMetadata, message: { key: plate, value: null } });
  const second = plates.find((plate) => at(plate) !== at(first));
  if (!second) throw new Error('no two plates on different partitions');
  return [first, second];
}

describe('a reused eventId is counted once', () => {
  test('different content under a known id is refused at ingest whatever its partition; the same content re-sent is accepted and stored once', { timeout: 120_000 }, async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    const pipeline = await startIngestToClickHouse({ kafka, admin, logger, createTopic, clickhouse });
    const { ingest } = pipeline;
    try {
      const [plate, otherPlate] = platesOnDifferentPartitions();
      const truck = (type: TruckEvent['type'], onPlate: string) => ({ ...sampleEvents().find((e) => e.type === type)!, plate: onPlate }) as TruckEvent;
      const original = truck('truck.arrived', plate);
      const reused = { ...original, plate: otherPlate };
      const other = truck('truck.customs-released', plate);

      expect((await post(ingest, [original])).json()).toEqual({ accepted: 1, rejected: [] });
      const mixed = await post(ingest, [other, reused]);
      expect(mixed.statusCode).toBe(207);
      expect(mixed.json()).toEqual({ accepted: 1, rejected: [{ index: 1, eventId: original.eventId, errors: [eventIdConflict] }] });
      // A device re-sending after a 503 or a timeout sends the same content: accepted, as before.
      expect((await post(ingest, [original])).json()).toEqual({ accepted: 1, rejected: [] });
      const alone = await post(ingest, [reused]);
      expect(alone.statusCode).toBe(400);
      expect(alone.json().errors).toEqual([{ field: `/0${eventIdConflict.field}`, reason: eventIdConflict.reason }]);

      // The last events on both partitions: once they are stored, so is everything before them.
      const lastOnEach = [truck('truck.gate-in', plate), truck('truck.gate-in', otherPlate)];
      expect((await post(ingest, lastOnEach)).statusCode).toBe(200);
      await eventuallyProgressing({
        what: 'the last event of both partitions stored',
        progress: async () => {
          const rows = await queryRows<{ n: string }>(clickhouse.client, `SELECT count() AS n FROM truck_events WHERE event_id IN ('${lastOnEach[0]!.eventId}', '${lastOnEach[1]!.eventId}')`);
          return Number(rows[0]?.n);
        },
        until: (n) => (n === 2 ? true : undefined),
        stallMs: 60_000,
      });
      const copies = await queryRows<{ plate: string; kafka_partition: number }>(clickhouse.client, `SELECT plate, kafka_partition FROM truck_events WHERE event_id = '${original.eventId}'`);
      expect(copies.map((c) => c.plate)).toEqual([plate]);
      const partitions = await queryRows<{ p: number }>(clickhouse.client, 'SELECT DISTINCT kafka_partition AS p FROM truck_events');
      expect(partitions.length).toBe(2);
      await eventuallyProgressing({ what: 'aggregates', progress: async () => (await storedCounts(clickhouse.client)).aggregated, until: atLeast(4) });
      expect(await storedCounts(clickhouse.client)).toEqual({ raw: 4, aggregated: 4 });
    } finally {
      await pipeline.close();
    }
  });

  test('the id stays bound to its content when Kafka fails, so the retry is accepted; Redis unreachable is a 503 naming redis, never a 2xx', { timeout: 60_000 }, async ({ kafka, logger, createTopic }) => {
    const producer = createProducer(kafka);
    await producer.connect();
    const eventIds = await testEventIdLedger(logger);
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    // Topics that do not exist: Kafka refuses the write (auto-creation is off), after the ids were recorded.
    const missing = { truck: `${topics.truck}-missing`, container: `${topics.container}-missing`, lane: `${topics.lane}-missing` };
    const failing = await startIngest({ producer, logger, topics: missing, eventIds: eventIds.ledger });
    const working = await startIngest({ producer, logger, topics, eventIds: eventIds.ledger });
    const unreachable = createRedis('redis://127.0.0.1:1', { connectionName: 'ingest-no-redis', logger });
    const noRedis = await startIngest({ producer, logger, topics, eventIds: new RedisEventIdLedger(unreachable, 3600) });
    try {
      const batch = sampleEvents().filter((e) => e.site === 'bac-luan-2').slice(0, 3);
      const refused = await post(failing, batch);
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ dependency: 'kafka' });
      expect((await post(working, batch)).json()).toEqual({ accepted: 3, rejected: [] });
      const changed = await post(working, [{ ...batch[0]!, source: 'BL2-ANPR-02' }]);
      expect(changed.statusCode).toBe(400);

      const down = await post(noRedis, sampleEvents().slice(0, 2));
      expect(down.statusCode).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
      expect(down.json()).toMatchObject({ dependency: 'redis', detail: expect.stringMatching(/nothing was accepted/) });
    } finally {
      await Promise.all([failing.close(), working.close(), noRedis.close()]);
      unreachable.disconnect();
      await eventIds.close();
      await producer.disconnect();
    }
  });
});
