import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { migrate } from '../../../aggregator/src/test-support.ts';
import { startLive, testTokens, withToken } from '../test-support.ts';

/** Every HTTP read of the operators' API, with a query that is valid. */
const reads = ['/v1/sites', '/v1/throughput?site=bac-luan-2&step=5m', '/v1/kpis/now', '/v1/journeys/14C-999.99', '/v1/alerts?site=van-ninh'];

describe("who may read the operators' HTTP API", () => {
  test('history and alerts answer display and operator tokens; no token or a bad one is a 401, a firm key a 403, before any validation; health, metrics, docs and the wall stay open', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    try {
      const status = async (url: string, headers: Record<string, string> = {}) => {
        const response = await live.app.inject({ url, headers });
        if (response.statusCode >= 400) expect(response.headers['content-type'], url).toContain('application/problem+json');
        return response.statusCode;
      };
      for (const url of reads) {
        const found = url.startsWith('/v1/journeys/') ? 404 : 200;
        expect(await status(url), url).toBe(401);
        expect(await status(url, { authorization: 'Bearer wall-t.not-the-secret' }), url).toBe(401);
        expect(await status(url, { authorization: testTokens.display }), `${url} without the Bearer scheme`).toBe(401);
        expect(await status(url, withToken(testTokens.disabled)), url).toBe(401);
        expect(await status(url, withToken(testTokens.haiha)), url).toBe(403);
        expect(await status(url, withToken(testTokens.display)), url).toBe(found);
        expect(await status(url, withToken(testTokens.operator)), url).toBe(found);
      }
      // The sites and, beside them, the province's 13 clearance points, three of them modelled as sites.
      const catalog = (await live.app.inject({ url: '/v1/sites', headers: withToken(testTokens.display) })).json<{ sites: { id: string }[]; clearancePoints: { id: string; site?: string }[] }>();
      expect(catalog.clearancePoints).toHaveLength(13);
      expect(catalog.clearancePoints.filter((p) => p.site).map((p) => [p.id, p.site])).toEqual([['cp-thanh-dat', 'km3-4-hai-yen'], ['cp-po-hen', 'po-hen'], ['cp-ka-long', 'ka-long']]);
      // A stranger learns nothing from validation (the 400 would list the site ids).
      expect(await status('/v1/throughput?site=atlantis')).toBe(401);
      expect(await status('/v1/throughput?site=atlantis', withToken())).toBe(400);
      for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json', '/']) expect(await status(url), url).toBe(200);

      const openapi = (await live.app.inject({ url: '/docs/json' })).json<{
        components: { securitySchemes: Record<string, { type: string; scheme: string }> };
        paths: Record<string, { get?: { security?: Record<string, string[]>[]; responses: Record<string, unknown> } }>;
      }>();
      expect(openapi.components.securitySchemes['accessToken']).toMatchObject({ type: 'http', scheme: 'bearer' });
      for (const path of ['/v1/sites', '/v1/throughput', '/v1/kpis/now', '/v1/journeys/{plate}', '/v1/alerts']) {
        expect(openapi.paths[path]?.get?.security, path).toEqual([{ accessToken: [] }]);
        expect(Object.keys(openapi.paths[path]?.get?.responses ?? {}), path).toEqual(expect.arrayContaining(['200', '401', '403']));
      }
    } finally {
      await live.app.close();
    }
  });
});
