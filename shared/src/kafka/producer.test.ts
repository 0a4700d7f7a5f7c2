import type { Kafka, Producer, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer } from './client.ts';

/** KafkaJS's producers as a fake records them: which producer sent what, how many sends were in flight at once. */
class FakeKafka {
  readonly producers: { id: number; connected: boolean; disconnected: boolean; sent: number }[] = [];
  /** Every sendBatch's messages (values), in order, also those that failed. */
  readonly requests: string[][] = [];
  /** Where each message (by value) was put, in the order of the partitioner's calls: one entry per attempt. */
  readonly placements = new Map<string, number[]>();
  readonly events: string[] = [];
  inFlight = 0;
  mostInFlight = 0;
  /** The outcome of each next sendBatch, in order: a rejection's error, or undefined for success. */
  outcomes: (Error | undefined)[] = [];
  /** Partitions the next sendBatch leaves out of its answer, as KafkaJS does when a leader moved during its retries. */
  skipNext: string[] = [];
  /** How many attempts the next sendBatch makes (KafkaJS's retries run the partitioner again each time). */
  attemptsNext = 1;
  /** While set, sendBatch waits for it (a stalled broker). */
  stall: Promise<void> | undefined;

  producer(config: ProducerConfig = {}): Producer {
    const record = { id: this.producers.length + 1, connected: false, disconnected: false, sent: 0 };
    this.producers.push(record);
    const producer: Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'> = {
      connect: async () => {
        this.events.push(`p${record.id} connect`);
        record.connected = true;
      },
      disconnect: async () => {
        this.events.push(`p${record.id} disconnect`);
        record.disconnected = true;
      },
      sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
        if (!record.connected || record.disconnected) throw new Error(`producer ${record.id} is not connected`);
        this.events.push(`p${record.id} send`);
        this.requests.push((batch.topicMessages ?? []).flatMap(({ messages }) => messages.map((m) => String(m.value))));
        // As KafkaJS: each message through the partitioner over the topic's partitions (two here) on every attempt, one answer per partition written by the last.
        const partition = config.createPartitioner!();
        const partitionMetadata = [0, 1].map((partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
        const written = new Set<string>();
        for (let attempt = this.attemptsNext; attempt > 0; attempt--) {
          written.clear();
          for (const { topic, messages } of batch.topicMessages ?? []) {
            for (const message of messages) {
              const at = partition({ topic, partitionMetadata, message });
              written.add(`${topic}:${at}`);
              this.placements.set(String(message.value), [...(this.placements.get(String(message.value)) ?? []), at]);
            }
          }
        }
        this.attemptsNext = 1;
        this.inFlight += 1;
        this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await this.stall;
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

  it('keeps a keyless message on the partition it was first given across KafkaJS retries: round-robin again would write it to a second partition and count the first as unanswered', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    kafka.attemptsNext = 2;
    await producer.send([{ topic: 'a', messages: [{ key: null, value: 'keyless' }] }]);
    const placements = kafka.placements.get('keyless')!;
    expect(placements).toHaveLength(2);
    expect(new Set(placements).size).toBe(1);
  });

  it('carries at most maxSendBytes in one request: the callers queued behind a stalled send go out in several requests, each under the broker\'s message.max.bytes', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka, { maxSendBytes: 1000 });
    await producer.connect();
    let release: () => void = () => undefined;
    kafka.stall = new Promise<void>((resolve) => (release = resolve));
    const value = (i: number) => `${i}`.padEnd(300, '.');
    const first = producer.send([{ topic: 'a', messages: [{ key: 'k', value: value(0) }] }]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const queued = Array.from({ length: 9 }, (_, i) => producer.send([{ topic: 'a', messages: [{ key: 'k', value: value(i + 1) }] }]));
    kafka.stall = undefined;
    release();
    await Promise.all([first, ...queued]);
    expect(kafka.requests.flat()).toEqual(Array.from({ length: 10 }, (_, i) => value(i)));
    // 300 bytes of value, a 1-byte key and the record's overhead each: three to a request.
    expect(kafka.requests.map((r) => r.length)).toEqual([1, 3, 3, 3]);
  });

  it('never sends a batch whose caller gave up while it waited behind a stalled send (its 503 means not written), and rejects that caller at once', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    let release: () => void = () => undefined;
    kafka.stall = new Promise<void>((resolve) => (release = resolve));
    const first = producer.send([{ topic: 'a', messages: [{ key: 'k', value: 'in flight' }] }]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const timeout = new AbortController();
    const abandoned = producer.send([{ topic: 'a', messages: [{ key: 'k', value: 'abandoned' }] }], timeout.signal);
    const kept = producer.send([{ topic: 'a', messages: [{ key: 'k', value: 'kept' }] }]);
    timeout.abort(new Error('no acknowledgement within 10 ms'));
    await expect(abandoned).rejects.toThrow(/no acknowledgement/);
    kafka.stall = undefined;
    release();
    await Promise.all([first, kept]);
    expect(kafka.requests).toEqual([['in flight'], ['kept']]);
  });

  it('disconnect() flushes: it sends what is queued, then closes the last producer opened; later sends are refused and open no producer', async () => {
    const kafka = new FakeKafka();
    const producer = createProducer(kafka as unknown as Kafka);
    await producer.connect();
    kafka.outcomes.push(new Error('leader not available'));
    // Its rejection is awaited from the start: it fails while disconnect() is awaited, and an unhandled rejection fails the whole run.
    const failing = expect(producer.send(messages('a'))).rejects.toThrow(/leader/);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const queued = producer.send(messages('a'));
    // While the first send is in flight: it fails, the queued one replaces the failed producer; disconnect() waits for both and closes the new one.
    await producer.disconnect();
    await failing;
    await expect(queued).resolves.toBeUndefined();
    await expect(producer.send(messages('a'))).rejects.toThrow(/closing/);
    expect(kafka.producers.map((p) => [p.sent, p.disconnected])).toEqual([
      [1, true],
      [1, true],
    ]);
    expect(kafka.events.at(-1)).toBe('p2 disconnect');
  });
});
