/**
 * GET /v1/conditions on the live service is the first route of its HTTP API open to
 * firms' keys, and firms are many: each token has a budget of requests (the bucket a
 * socket has for its messages, WS_MESSAGE_RATE and WS_MESSAGE_BURST), so one firm
 * asking in a loop is refused with 429 and Retry-After while another is answered.
 */
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { migrate } from '../../../aggregator/src/test-support.ts';
import { startLive, testTokens, withToken } from '../test-support.ts';

describe('live GET /v1/conditions', () => {
  test('a firm flooding it is refused over its budget; another firm is still answered', { timeout: 120_000 }, async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, { messageRate: { perSecond: 1, burst: 5, closeAfterRefused: 40 } });
    try {
      const ask = (token: string) => live.app.inject({ method: 'GET', url: '/v1/conditions', headers: withToken(token) });
      const flood = await Promise.all(Array.from({ length: 40 }, () => ask(testTokens.haiha)));
      const refused = flood.filter((answer) => answer.statusCode === 429);
      expect(refused.length).toBeGreaterThanOrEqual(30);
      expect(refused[0]!.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused[0]!.json()).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
      expect(flood.filter((answer) => answer.statusCode === 200).length).toBeGreaterThanOrEqual(1);
      const other = await ask(testTokens.donghung);
      expect(other.statusCode).toBe(200);
    } finally {
      await live.app.close();
    }
  });
});
