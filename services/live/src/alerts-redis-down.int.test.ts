import { describe, expect } from 'vitest';
import { test, testRedis } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { startLive, withToken } from './test-support.ts';

describe('alerts while Redis is away', () => {
  test('GET /v1/alerts answers 503 problem+json naming redis (not a 500) when the open alerts cannot be read', { timeout: 60_000 }, async ({ infra, logger, clickhouse, kafka }) => {
    await migrate(clickhouse.settings);
    // The gateway's own Redis connection, closed under it as a Redis crash closes it (the redis-loss drill kills a real one).
    const redis = testRedis(infra, 'alerts-redis-down', logger);
    await redis.connect();
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis, kafka });
    try {
      expect((await live.app.inject({ url: '/v1/alerts', headers: withToken() })).statusCode).toBe(200);
      redis.disconnect();
      const answer = await live.app.inject({ url: '/v1/alerts', headers: withToken() });
      expect(answer.statusCode, answer.body).toBe(503);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.headers['retry-after']).toBeDefined();
      expect(answer.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/dependency-unavailable', dependency: 'redis' });
    } finally {
      await live.app.close();
    }
  });
});
