import { describe, expect } from 'vitest';
import { test, testKafkaLogin, uniqueName } from '../testing/fixtures.ts';
import { atLeast, eventuallyProgressing } from '../testing/progress.ts';
import { createKafka, createProducer } from './client.ts';

describe('Kafka round trip (real broker)', () => {
  test('an idempotent acks=all producer and a consumer group deliver every message once, in key order', async ({ kafka, createTopic }) => {
    const topic = await createTopic({ partitions: 3 });
    const producer = createProducer(kafka);
    await producer.connect();
    const plates = ['14C-12345', '14C-54321', '桂P-12345'];
    const sent = plates.flatMap((plate) => Array.from({ length: 20 }, (_, step) => ({ plate, step })));
    await producer.send([
      { topic, messages: sent.map(({ plate, step }) => ({ key: plate, value: JSON.stringify({ plate, step }), headers: { 'tower-schema': 'test' } })) },
    ]);
    await producer.disconnect();

    const received: { plate: string; step: number; partition: number; header: string | undefined }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const value = JSON.parse(message.value?.toString() ?? '{}') as { plate: string; step: number };
        received.push({ ...value, partition, header: message.headers?.['tower-schema']?.toString() });
      },
    });
    await eventuallyProgressing({ what: 'all messages', progress: () => received.length, until: atLeast(sent.length) });
    await consumer.disconnect();

    expect(received).toHaveLength(sent.length);
    for (const plate of plates) {
      const mine = received.filter((r) => r.plate === plate);
      expect(mine.map((r) => r.step)).toEqual([...Array(20).keys()]);
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    }
    expect(received.every((r) => r.header === 'test')).toBe(true);
  });

  test('a send to a missing topic fails instead of creating it', async ({ infra, logger }) => {
    const producer = createProducer(createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('test'), logger, retries: 1, login: testKafkaLogin(infra) }));
    await producer.connect();
    await expect(producer.send([{ topic: uniqueName('absent'), messages: [{ key: 'k', value: 'v' }] }])).rejects.toThrow();
    await producer.disconnect();
  });
});
