import type { Kafka, Producer, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer } from './client.ts';

/** KafkaJS's producers as a fake records them: which producer sent what, how many sends were in flight at once. */
class FakeKafka {
  readonly producers: { id: number; connected: boolean; disconnected: boolean; sent: number }[] = [];
  inFlight = 0;
  mostInFlight = 0;
  /** The outcome of each next sendBatch, in order: a rejection's error, or undefined for success. */
  outcomes: (Error | undefined)[] = [];
  /** Partitions the next sendBatch leaves out of its answer, as KafkaJS does when a leader moved during its retries. */
  skipNext: string[] = [];

  producer(config: ProducerConfig = {}): Producer {
    const record = { id: this.producers.length + 1, connected: false, disconnected: false, sent: 0 };
    this.producers.push(record);
    const producer: Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'> = {
      connect: async () => void (record.connected = true),
      disconnect: async () => void (record.disconnected = true),
      sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
        if (!record.connected || record.disconnected) throw new Error(`producer ${record.id} is not connected`);
        // As KafkaJS: each message through the partitioner over the topic's partitions (two here), one answer per partition written.
        const partition = config.createPartitioner!();
        const partitionMetadata = [0, 1].map((partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
        const written = new Set<string>();
        for (const { topic, messages } of batch.topicMessages ?? []) for (const message of messages) written.add(`${topic}:${partition({ topic, partitionMetadata, message })}`);
        this.inFlight += 1;
        this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        this.inFlight -= 1;
        record.sent += 1;
        const error = this.outcomes.shift();
        if (error) throw error;
        const skipped = this.skipNext.splice(0);
        return [...written].filter((tp) => !skipped.includes(tp)).map((tp) => ({ topicName: tp.split(':')[0]!, partition: Number(tp.split(':')[1]), errorCode: 0, baseOffset: '0' }));
      },
    };
    return producer as Producer;
  }
}

const messages = (topic: string) => [{ topic, messages: [{ key: 'k', value: 'v' }] }];
/** Keys that land on both partitions of a topic of two under the Java-compatible murmur2 partitioner. */
const spread = (topic: string) => [{ topic, messages: ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ key, value: 'v' })) }];

describe('createProducer (idempotent, acks=all)', () => {
  it('sends through a new producer (a new producer id) after a send failed: the failed one may have left its sequence numbers behind what the broker wrote', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    await producer.send(messages('a'));
    kafka.outcomes.push(new Error('The broker received an out of order sequence number'));
    await expect(producer.send(messages('a'))).rejects.toThrow(/out of order/);
    await producer.send(messages('a'));
    await producer.send(messages('a'));

    expect(kafka.producers.map((p) => p.sent)).toEqual([2, 2]);
    expect(kafka.producers[0]!.disconnected).toBe(true);
    await producer.disconnect();
    expect(kafka.producers[1]!.disconnected).toBe(true);
  });

  it('refuses a send that KafkaJS resolved without an answer for one of its partitions (a leader moved during its retries to a broker that had already answered: those messages were never sent)', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    await producer.send(spread('a'));
    kafka.skipNext = ['a:1'];
    await expect(producer.send(spread('a'))).rejects.toThrow(/a:1/);
    await producer.send(spread('a'));
    expect(kafka.producers.map((p) => p.sent)).toEqual([2, 1]);
  });

  it('keeps trying a new producer while the cluster refuses it, and sends nothing through the failed one', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    kafka.outcomes.push(new Error('Messages are rejected since there are fewer in-sync replicas than required'), new Error('still down'));
    await expect(producer.send(messages('a'))).rejects.toThrow(/fewer in-sync/);
    await expect(producer.send(messages('a'))).rejects.toThrow(/still down/);
    await producer.send(messages('a'));
    expect(kafka.producers.map((p) => p.sent)).toEqual([1, 1, 1]);
  });

  it('has one send in flight at a time: a failed request rolls its sequence numbers back, and a concurrent send would take them', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    // Callers that arrive while a send is in flight share the next one.
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i));
      await producer.send(messages(`t${i % 3}`));
    }));
    expect(kafka.mostInFlight).toBe(1);
    expect(kafka.producers[0]!.sent).toBeLessThan(20);
  });
});
