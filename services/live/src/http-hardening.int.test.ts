import { describe, expect } from 'vitest';
import { apiContentSecurityPolicy, docsContentSecurityPolicy } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { startLive, testTokens } from './test-support.ts';

/** The operators' address (wall, history API, docs) answers every error as problem+json and every answer with the security headers. */
describe('live service HTTP hardening', () => {
  test('the wall cannot be framed, the API and docs carry their policies, framework errors are problems, the Bearer scheme in any case', async ({ logger, clickhouse, redis, kafka }) => {
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    try {
      const get = (url: string, headers: Record<string, string> = {}) => live.app.inject({ method: 'GET', url, headers });
      const wall = await get('/');
      expect(wall.statusCode).toBe(200);
      expect(wall.headers['x-frame-options']).toBe('DENY');
      expect(wall.headers['x-content-type-options']).toBe('nosniff');
      expect(wall.headers['referrer-policy']).toBe('no-referrer');
      expect(String(wall.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
      // The wall's own policy, not the API's (which would block its scripts).
      expect(String(wall.headers['content-security-policy'])).toContain("script-src 'self'");

      expect((await get('/docs/static/index.html')).headers['content-security-policy']).toBe(docsContentSecurityPolicy);
      const me = await get('/v1/access/me', { authorization: `bearer ${testTokens.operator}` });
      expect(me.statusCode).toBe(200);
      expect(me.headers['content-security-policy']).toBe(apiContentSecurityPolicy);

      const problems = [
        [await get('/v1/alerts/a1/acknowledge'), 405],
        [await get(`/v1/journeys/${'9'.repeat(101)}`, { authorization: `Bearer ${testTokens.display}` }), 414],
        [await get('/v1/journeys/%E0%A4%A', { authorization: `Bearer ${testTokens.display}` }), 400],
        [await get('/v1/nothing-here'), 404],
        [await get('/v1/access/me'), 401],
      ] as const;
      for (const [response, status] of problems) {
        expect(response.statusCode).toBe(status);
        expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
        expect(response.headers['x-frame-options']).toBe('DENY');
      }
      expect(problems[0][0].headers['allow']).toBe('POST');
    } finally {
      await live.app.close();
    }
  });
});
