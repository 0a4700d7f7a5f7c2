import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { describe, expect } from 'vitest';
import { createProducer, decodeJourneyUpdate, decodeTick, journeysOf, journeyView, type ClickHouseClient, type JourneyUpdate, type ThroughputTick, type TowerEvent, type TruckEvent } from '@tower/shared';
import { eventually, eventuallyProgressing, sampleEvents, test, uniqueName } from '@tower/shared/testing';
import { createAggregatorTopics, eventMessages, migrate, startAggregator, storedAgreeing, type AggregatorTopics } from './test-support.ts';


async function produce(kafka: Kafka, topics: AggregatorTopics, events: TowerEvent[], poison: { topic: string; value: Buffer }[] = []) {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send([...eventMessages(topics, events), ...poison.map(({ topic, value }) => ({ topic, messages: [{ key: 'poison', value }] }))]);
  await producer.disconnect();
}

async function count(client: ClickHouseClient, query: string): Promise<number> {
  const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(rows[0]?.n ?? 0);
}

/** Reads a live topic from the start until `until` holds for what arrived. */
async function readLive<T>(kafka: Kafka, topic: string, decode: (value: Buffer) => T, until: (messages: T[]) => boolean): Promise<T[]> {
  const messages: T[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('live') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(decode(message.value!)) });
  await eventuallyProgressing({ what: `the expected messages on ${topic}`, progress: () => messages.length, until: () => (until(messages) ? true : undefined) });
  await consumer.disconnect();
  return messages;
}

describe('aggregator against real Kafka and ClickHouse', () => {
  test('stores every event once, drops a re-sent eventId, dead-letters poison, corrects a late window live and stored, and publishes journeys', async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const first = sampleEvents(windowStart + 5_000);
    const later = sampleEvents(windowStart + 5 * 60_000);
    const resent = first[0]!;
    await produce(kafka, topics, [...first, resent], [{ topic: topics.events.truck, value: Buffer.from('not avro at all') }]);
    await produce(kafka, topics, later);

    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      await eventuallyProgressing({ what: 'every event stored', progress: () => storedAgreeing(clickhouse.client), until: (rows) => (rows === first.length + later.length ? true : undefined) });
      expect(await count(clickhouse.client, `SELECT count() AS n FROM truck_events WHERE event_id = '${resent.eventId}'`)).toBe(1);

      // The watermark is now 3 minutes past the first window: this queue sample is late.
      const lateSample = { ...(first.find((e) => e.type === 'lane.queue-sampled') as TowerEvent), eventId: randomUUID(), observedAt: windowStart + 20_000 };
      const laneOf = (lateSample as { lane: string }).lane;
      const storedBefore = await count(clickhouse.client, `SELECT sumMerge(events) AS n FROM throughput_1m WHERE lane = '${laneOf}' AND window_start = toDateTime(${windowStart / 1000})`);
      await produce(kafka, topics, [lateSample]);
      await eventuallyProgressing({ what: 'the late event stored', progress: () => storedAgreeing(clickhouse.client), until: (rows) => (rows === first.length + later.length + 1 ? true : undefined) });
      const storedAfter = await count(clickhouse.client, `SELECT sumMerge(events) AS n FROM throughput_1m WHERE lane = '${laneOf}' AND window_start = toDateTime(${windowStart / 1000})`);
      expect(storedAfter).toBe(storedBefore + 1);
      const hourly = await count(clickhouse.client, `SELECT sumMerge(events) AS n FROM throughput_1h`);
      expect(hourly).toBe(first.length + later.length + 1);

      // Wait for the correction that includes the late event (the backlog's own ticks of
      // this window come first).
      const isLateCorrection = (t: ThroughputTick) => t.correction && t.lane === laneOf && t.windowStart === windowStart && t.events === storedAfter;
      const ticks = await readLive(kafka, topics.throughput, decodeTick, (all) => all.some(isLateCorrection));
      const correction = ticks.find(isLateCorrection)!;
      expect(correction).toMatchObject({ correction: true, final: true, events: storedAfter, windowEnd: windowStart + 60_000 });
      expect(correction.newestIngestedAt).toBeGreaterThan(0);

      // Journey updates: the newest state of each journey is what the stored events make of it.
      const trucks = [...first, ...later].filter((e): e is TruckEvent => e.type.startsWith('truck.'));
      const expected = journeysOf(trucks).map(journeyView);
      expect(expected.map((j) => j.complete)).toEqual([true, true]);
      const newestOf = (updates: JourneyUpdate[], startedAt: number) => updates.filter((u) => u.startedAt === startedAt).at(-1);
      const updates = await readLive(kafka, topics.journeys, decodeJourneyUpdate, (all) => expected.every((j) => newestOf(all, j.startedAt)?.complete));
      for (const journey of expected) {
        const { newestIngestedAt, publishedAt, ...view } = newestOf(updates, journey.startedAt)!;
        expect(view).toEqual(journey);
        expect(publishedAt).toBeGreaterThanOrEqual(newestIngestedAt);
      }

      const deadLetters = await readDeadLetters(kafka, topics.deadLetter);
      expect(deadLetters).toEqual(['not-single-object']);
    } finally {
      await aggregator.close();
    }
  });
});

async function readDeadLetters(kafka: Kafka, topic: string): Promise<string[]> {
  const reasons: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('dlq') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void reasons.push(String(message.headers?.['dlq.reason'])) });
  await eventually(async () => (reasons.length > 0 ? true : undefined), { what: 'a dead letter' });
  await consumer.disconnect();
  return reasons;
}
