import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { emptyMeasures, type ThroughputTick } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { connectLiveClient, startLive } from './test-support.ts';

const minute = 60_000;

const tick = (windowStart: number, newestIngestedAt: number, final = false): ThroughputTick => ({
  site: 'bac-luan-2',
  lane: 'bl2-smart-ex-1',
  direction: 'export',
  laneKind: 'smart',
  windowStart,
  windowEnd: windowStart + minute,
  final,
  correction: false,
  ...emptyMeasures,
  events: 1,
  newestIngestedAt,
  publishedAt: Date.now(),
});

/** One sample of the Prometheus text, 0 when absent. */
const sample = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1] ?? 0);

describe('live gateway freshness histogram', () => {
  test('observes now − newestIngestedAt for each throughput tick of new data delivered to a client, not for a window made final', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const client = await connectLiveClient((live.app.server.address() as AddressInfo).port, { origin: 'http://127.0.0.1:8080' });
    try {
      client.send({ type: 'subscribe', id: 'zone', channel: 'throughput', filter: { site: 'bac-luan-2' } });
      await client.next((m) => m.type === 'snapshot' && m.id === 'zone', 'snapshot');
      const now = Math.floor(Date.now() / minute) * minute;
      live.hub.publishTick(tick(now - minute, Date.now() - 600_000, true), Date.now()); // final: minutes old by design, not counted
      live.hub.publishTick(tick(now, Date.now() - 1500), Date.now());
      await client.next((m) => m.type === 'delta' && m.seq === 2, 'the second delta');

      const metrics = (await live.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('# TYPE tower_live_tick_freshness_seconds histogram');
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_count')).toBe(1);
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_bucket{le="1"}')).toBe(0);
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_bucket{le="+Inf"}')).toBe(1);
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_sum')).toBeGreaterThanOrEqual(1.5);
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_sum')).toBeLessThan(600);
    } finally {
      client.ws.close();
      await live.closeGateway();
      await live.app.close();
    }
  });
});
