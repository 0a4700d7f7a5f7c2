/**
 * Issue 18's new doors on the slots service (the fleet, the gate conditions, webhooks)
 * count against the API's budget per key (RATE_PER_SECOND, RATE_BURST): one firm asking
 * in a loop is refused with 429 and Retry-After on each of them, and another firm is
 * still answered on each.
 */
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { bearer, startSlots, testKeys } from './test-support.ts';

const newRoutes = ['/v1/fleet/trucks', '/v1/conditions', '/v1/webhooks'];

describe('the new routes’ budget per key', () => {
  test('one firm flooding the fleet, conditions and webhooks routes is refused; another firm is answered on each', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { rateLimit: { perSecond: 1, burst: 10 } });
    try {
      const ask = (key: string, url: string) => slots.http.inject({ method: 'GET', url, headers: bearer(key) });
      const flood = await Promise.all(Array.from({ length: 90 }, (_, i) => ask(testKeys.haiha, newRoutes[i % newRoutes.length]!)));
      for (const url of newRoutes) {
        const refused = flood.filter((answer, i) => newRoutes[i % newRoutes.length] === url && answer.statusCode === 429);
        expect(refused.length, url).toBeGreaterThanOrEqual(15);
        expect(refused[0]!.headers['content-type'], url).toMatch(/^application\/problem\+json/);
        expect(Number(refused[0]!.headers['retry-after']), url).toBeGreaterThanOrEqual(1);
      }
      for (const url of newRoutes) {
        // The conditions answer 503 while the live service has written none: answered all the same, not refused.
        expect((await ask(testKeys.donghung, url)).statusCode, url).not.toBe(429);
      }
    } finally {
      await slots.close();
    }
  });
});
