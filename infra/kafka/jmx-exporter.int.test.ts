import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createKafka, createTopicsReady } from '@tower/shared';
import { eventually, eventuallyProgressing, test, testKafkaLogin, uniqueName } from '@tower/shared/testing';
import { differencesFromDocs, infrastructureMetrics, scrape, type Family } from '../prometheus/exposition.ts';
import { standaloneKafkaSpec } from '../local/servers.ts';
import { startServer, stopServer } from '../local/supervisor.ts';

const brokerPort = 27292;
const jmxPort = 27294;

const sampleValue = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
  families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('the Kafka JMX exporter agent (infra/kafka/jmx-exporter.yaml)', () => {
  test('a broker serves every Kafka row of docs/metrics.md, with its type and labels, and no other kafka_ family', { timeout: 180_000 }, async ({ infra, logger }) => {
    // Its own broker: the shared test broker runs without the agent until it is restarted.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-jmx-exporter-'));
    const spec = standaloneKafkaSpec(root, brokerPort, infra.credentials, jmxPort);
    expect(spec.ports).toContainEqual({ port: jmxPort, role: 'metrics' });
    await startServer(spec);
    const kafka = createKafka({ brokers: [`127.0.0.1:${brokerPort}`], clientId: uniqueName('jmx-test'), logger, login: testKafkaLogin(infra) });
    const topic = uniqueName('jmx-topic');
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: uniqueName('jmx-reader'), maxWaitTimeInMs: 100 });
    try {
      const admin = kafka.admin();
      await admin.connect();
      await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
      await admin.disconnect();
      // Produce and fetch, so the per-topic and per-request MBeans exist.
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `message ${i}` })) });
      let read = 0;
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async () => void read++ });
      await eventuallyProgressing({ what: 'the 20 messages read back', progress: () => read, until: (n) => (n === 20 ? true : undefined), stallMs: 60_000 });

      const rows = infrastructureMetrics().filter((row) => row.source.startsWith('Kafka JMX'));
      expect(rows.length).toBeGreaterThan(20);
      const families = await eventually(
        async () => {
          const scraped = await scrape(jmxPort);
          const differences = differencesFromDocs(scraped, rows);
          if (differences.length > 0) throw new Error(differences.join('; '));
          return (sampleValue(scraped, 'kafka_server_bytes_out_total', { topic }) ?? 0) > 0 ? scraped : undefined;
        },
        { what: 'every documented Kafka metric on the agent', timeoutMs: 60_000 },
      );

      // Only what the rules select: each kafka_ family exported is a documented one.
      const documented = new Set(rows.map((row) => row.name));
      expect([...families.keys()].filter((name) => name.startsWith('kafka_') && !documented.has(name))).toEqual([]);
      expect(sampleValue(families, 'kafka_server_messages_in_total', { topic })).toBe(20);
      expect(sampleValue(families, 'kafka_server_bytes_in_total', { topic })).toBeGreaterThan(0);
      expect(sampleValue(families, 'kafka_log_size_bytes', { topic, partition: '0' })).toBeGreaterThan(0);
      expect(sampleValue(families, 'kafka_network_requests_total', { request: 'Produce' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(families, 'kafka_network_requests_total', { request: 'Fetch' })).toBeGreaterThanOrEqual(1);
      expect(families.get('kafka_network_request_total_time_seconds')?.samples.map((s) => `${s.labels['request']} ${s.labels['quantile']}`).sort()).toEqual(
        ['FetchConsumer 0.5', 'FetchConsumer 0.99', 'FetchFollower 0.5', 'FetchFollower 0.99', 'Produce 0.5', 'Produce 0.99'],
      );
      // A healthy single node: it is the controller, nothing is offline or under-replicated.
      expect(sampleValue(families, 'kafka_controller_active_controller')).toBe(1);
      expect(sampleValue(families, 'kafka_controller_offline_partitions')).toBe(0);
      expect(sampleValue(families, 'kafka_server_under_replicated_partitions')).toBe(0);
      expect(sampleValue(families, 'kafka_server_under_min_isr_partitions')).toBe(0);
      expect(sampleValue(families, 'jvm_memory_used_bytes', { area: 'heap' })).toBeGreaterThan(0);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
