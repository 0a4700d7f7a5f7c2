/**
 * Issue 13: schemathesis against the OpenAPI documents of the ingest API, the
 * operators' address (history API and alerts) and the slots API, each built on real
 * Kafka, ClickHouse and Redis and called with valid credentials. Any 5xx, or any
 * status code, content type, header or body its document does not declare, fails.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import { createProducer } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { migrate } from '../services/aggregator/src/test-support.ts';
import { startLive, testTokens } from '../services/live/src/test-support.ts';
import { startSlots, testKeys } from '../services/slots/src/test-support.ts';
import { deviceKeysBySite, startIngest } from './support/ingest.ts';
import { fuzz, requireSchemathesis, type FuzzResult, type FuzzRun } from './support/schemathesis.ts';

/** Fixed, so a failure reproduces; bounded, so the three runs take a few minutes on a busy 2-core machine. */
const seed = 20_261_130;
const maxExamples = 20;

const baseUrlOf = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

async function fuzzed(run: Omit<FuzzRun, 'seed' | 'maxExamples'>): Promise<FuzzResult & { name: string }> {
  const result = await fuzz({ ...run, seed, maxExamples });
  process.stdout.write(`[fuzz] ${run.name}: ${result.operations} operations, ${result.cases} test cases, ${(result.durationMs / 1000).toFixed(0)} s, ${result.passed ? 'passed' : 'FAILED'}\n`);
  return { ...result, name: run.name };
}

describe('fuzzing the OpenAPI documents with schemathesis (real Kafka, ClickHouse, Redis)', () => {
  test('ingest, history and alerts, slots: no server error, every answer as documented', { timeout: 900_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    await requireSchemathesis();
    await migrate(clickhouse.settings);
    const producer = createProducer(kafka);
    await producer.connect();
    const ingest = await startIngest({ producer, logger, topics: { truck: await createTopic(), container: await createTopic(), lane: await createTopic() } });
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, { topic: await createTopic() });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) } });
    await slots.http.listen({ port: 0, host: '127.0.0.1' });
    try {
      // One after the other (the machine has 2 cores); every run before the verdict, so one report shows every failure.
      const results = [
        await fuzzed({ name: 'ingest', baseUrl: baseUrlOf(ingest), authorization: `Bearer ${deviceKeysBySite.get('bac-luan-2')}` }),
        await fuzzed({ name: 'history and alerts', baseUrl: baseUrlOf(live.app), authorization: `Bearer ${testTokens.operator}` }),
        // Firms book, confirm and cancel; operators set windows and read any firm's bookings: both roles' paths.
        await fuzzed({ name: 'slots (firm key)', baseUrl: baseUrlOf(slots.http), authorization: `Bearer ${testKeys.haiha}` }),
        await fuzzed({ name: 'slots (operator token)', baseUrl: baseUrlOf(slots.http), authorization: `Bearer ${testKeys.operator}` }),
      ];
      for (const result of results) expect(result.operations, `${result.name}: operations tested`).toBeGreaterThan(0);
      const failed = results.filter((r) => !r.passed);
      expect(failed.map((r) => r.name), failed.map((r) => `schemathesis found failures in the ${r.name} API:\n${r.output}`).join('\n')).toEqual([]);
    } finally {
      await slots.close();
      await live.closeGateway();
      await live.app.close();
      await ingest.close();
      await producer.disconnect();
    }
  });
});
