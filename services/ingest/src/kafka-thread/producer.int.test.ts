import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import { createKafka, createTopicsReady, type Logger, type TopicMessages } from '@tower/shared';
import { eventuallyProgressing, test, testKafkaLogin, uniqueName } from '@tower/shared/testing';
import { standaloneKafkaSpec } from '../../../../infra/local/servers.ts';
import { inspectServer, startServer, stopServer } from '../../../../infra/local/supervisor.ts';
import { KafkaThreadProducer, type KafkaThreadOptions } from './producer.ts';

type Infra = Parameters<typeof testKafkaLogin>[0];

const threadProducer = (infra: Infra, logger: Logger, brokers: string[], options?: KafkaThreadOptions) =>
  new KafkaThreadProducer({ brokers, clientId: uniqueName('kafka-thread'), login: testKafkaLogin(infra), retries: 1, logLevel: 'warn', service: 'ingest-test' }, logger, options);

/** A metric's values on the registry, as `labels → value` (`''` for no labels). */
async function valuesOf(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not on the registry`);
  return Object.fromEntries((await metric.get()).values.map(({ labels, value }) => [Object.values(labels).join(','), value]));
}

const batchOf = (topic: string, ids: string[]): TopicMessages[] => [
  { topic, messages: ids.map((id) => ({ key: id, value: Buffer.from(`value of ${id}`), timestamp: '1764547200000', headers: { 'tower-device': 'bl2-gw-1', traceparent: Buffer.from(`trace-${id}`) } })) },
];

/** The records on `topic` (from the start) up to and including the one keyed `last` (one partition: all before it). */
async function readTopic(kafka: Kafka, topic: string, last: string): Promise<{ key: string; value: string; timestamp: string; headers: Record<string, string> }[]> {
  const landed: { key: string; value: string; timestamp: string; headers: Record<string, string> }[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('verify') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      landed.push({ key: String(message.key), value: String(message.value), timestamp: message.timestamp, headers });
    },
  });
  await eventuallyProgressing({ what: `the record ${last} on ${topic}`, progress: () => landed.length, until: () => (landed.some((r) => r.key === last) ? true : undefined) });
  await consumer.disconnect();
  return landed;
}

describe('the Kafka producer in a worker thread (real Kafka)', () => {
  test('a send resolves once Kafka holds its records, keys, values, timestamps and headers as given; disconnect flushes every send in flight', async ({ kafka, infra, logger, createTopic }) => {
    const topic = await createTopic({ partitions: 1 });
    const producer = threadProducer(infra, logger, infra.KAFKA_BROKERS.split(','));
    await producer.connect();
    await producer.send(batchOf(topic, ['a', 'b']));
    // Forty sends, none awaited, then the close: each must be written and acknowledged before the thread ends.
    const sends = Array.from({ length: 40 }, (_, i) => producer.send(batchOf(topic, [`r${i}-1`, `r${i}-2`])));
    await producer.disconnect();
    expect(await Promise.allSettled(sends)).toEqual(sends.map(() => ({ status: 'fulfilled', value: undefined })));
    await expect(producer.send(batchOf(topic, ['late']))).rejects.toThrow(/closing/);

    const landed = await readTopic(kafka, topic, 'r39-2');
    expect(landed).toHaveLength(82);
    expect(landed.find((r) => r.key === 'r7-2')).toEqual({ key: 'r7-2', value: 'value of r7-2', timestamp: '1764547200000', headers: { 'tower-device': 'bl2-gw-1', traceparent: 'trace-r7-2' } });
  });

  test('a thread that dies (exits, or throws) fails the sends it held (not hung), is counted by why, and the next send runs on a new one', async ({ kafka, infra, logger, createTopic }) => {
    const topic = await createTopic({ partitions: 1 });
    const metrics = new Registry();
    // The real thread, plus a listener that ends it when a batch for a topic `crash…` or `throw…` arrives.
    const producer = threadProducer(infra, logger, infra.KAFKA_BROKERS.split(','), { metrics, entry: new URL('./crashing-thread.test-support.ts', import.meta.url) });
    await producer.connect();
    await producer.send(batchOf(topic, ['before']));
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 0, exit: 0, connect: 0 });

    await expect(producer.send(batchOf(uniqueName('crash'), ['lost']))).rejects.toThrow(/the Kafka thread stopped \(exit code 3\) before Kafka acknowledged the send/);
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 0, exit: 1, connect: 0 });
    await producer.send(batchOf(topic, ['after exit']));

    await expect(producer.send(batchOf(uniqueName('throw'), ['lost too']))).rejects.toThrow(/the Kafka thread stopped \(exit code 1\) before Kafka acknowledged the send/);
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 1, exit: 1, connect: 0 });
    await producer.send(batchOf(topic, ['after error']));

    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_queued_batches')).toEqual({ '': 0 });
    await producer.disconnect();
    // A thread ended on request is no restart.
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 1, exit: 1, connect: 0 });
    expect((await readTopic(kafka, topic, 'after error')).map((r) => r.key).sort()).toEqual(['after error', 'after exit', 'before']);
  });

  test('a thread whose producer does not connect is counted (connect), and the next send tries a new one', async ({ infra, logger }) => {
    const metrics = new Registry();
    // Nothing listens on 27601 (this task's range): each connection is refused at once.
    const producer = threadProducer(infra, logger, ['127.0.0.1:27601'], { metrics });
    await expect(producer.connect()).rejects.toThrow(/the Kafka producer did not connect/);
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 0, exit: 0, connect: 1 });
    await expect(producer.send(batchOf('events', ['never']))).rejects.toThrow(/the Kafka producer did not connect/);
    expect(await valuesOf(metrics, 'tower_ingest_producer_thread_restarts_total')).toEqual({ error: 0, exit: 0, connect: 2 });
    await producer.disconnect();
  });

  test('Kafka hung: a send that gives up (its signal) is rejected at its deadline, and what was still queued in the thread is never written, also after Kafka answers again', { timeout: 180_000 }, async ({ infra, logger }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-thread-'));
    const spec = standaloneKafkaSpec(root, 27600, infra.credentials);
    await startServer(spec);
    let paused: number | undefined;
    try {
      const kafka = createKafka({ brokers: ['127.0.0.1:27600'], clientId: uniqueName('thread-outage'), logger, retries: 1, login: testKafkaLogin(infra) });
      const admin = kafka.admin();
      await admin.connect();
      await createTopicsReady(admin, [{ topic: 'events', numPartitions: 1, replicationFactor: 1 }]);
      await admin.disconnect();
      const metrics = new Registry();
      const producer = threadProducer(infra, logger, ['127.0.0.1:27600'], { metrics });
      await producer.connect();
      await producer.send(batchOf('events', ['up']));

      // Paused, not stopped: its connections stay open and the produce request hangs (a stopped broker refuses at once).
      const state = inspectServer(spec);
      if (state.state !== 'running') throw new Error('the test Kafka is not running');
      const { pid } = state;
      process.kill(pid, 'SIGSTOP');
      paused = pid;
      // The first goes into a produce request (it may still land once Kafka is back); the others wait behind it in the thread.
      const inFlight = producer.send(batchOf('events', ['in-flight']), AbortSignal.timeout(2000)).catch((error: Error) => error);
      // Sends of one event-loop turn share a request: the queued ones come after the first has gone out.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const queued = ['q1', 'q2', 'q3'].map((id) => {
        const started = Date.now();
        return producer.send(batchOf('events', [id]), AbortSignal.timeout(1000)).then(
          () => ({ id, outcome: 'acknowledged', after: Date.now() - started }),
          (error: Error) => ({ id, outcome: error.name, after: Date.now() - started }),
        );
      });
      // Once the sends' turn has run, all four are with the thread, unanswered.
      await new Promise((resolve) => setImmediate(resolve));
      expect(await valuesOf(metrics, 'tower_ingest_producer_thread_queued_batches')).toEqual({ '': 4 });
      for (const answer of await Promise.all(queued)) {
        expect(answer.outcome, answer.id).toBe('TimeoutError');
        // Answered at its deadline, not when the thread's request settles.
        expect(answer.after, answer.id).toBeLessThan(1900);
      }
      expect(await inFlight).toBeInstanceOf(Error);
      expect(await valuesOf(metrics, 'tower_ingest_producer_thread_queued_batches')).toEqual({ '': 0 });

      process.kill(pid, 'SIGCONT');
      paused = undefined;
      await producer.send(batchOf('events', ['back']), AbortSignal.timeout(60_000));
      await producer.disconnect();
      const keys = (await readTopic(kafka, 'events', 'back')).map((r) => r.key);
      expect(keys.filter((key) => key.startsWith('q'))).toEqual([]);
    } finally {
      if (paused !== undefined) process.kill(paused, 'SIGCONT');
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
