import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { emptyMeasures, type ThroughputTick } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { connectLiveClient, startLive } from './test-support.ts';

const minute = 60_000;
const sample = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.split(' ')[1] ?? 0);

describe('provisional figures through the live gateway', () => {
  test('a client gets the provisional figures at once, flagged, then the confirmed ones replace them (delta and snapshot); freshness counts the provisional delivery only', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (live.app.server.address() as AddressInfo).port;
    const client = await connectLiveClient(port, { origin: 'http://127.0.0.1:8080' });
    const windowStart = Math.floor(Date.now() / minute) * minute;
    const ingestedAt = Date.now() - 300;
    const tick = (provisional: boolean, events: number): ThroughputTick => ({
      site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart, windowEnd: windowStart + minute, final: false, correction: false,
      ...emptyMeasures, events, newestIngestedAt: ingestedAt, publishedAt: Date.now(), provisional,
    });
    try {
      client.send({ type: 'subscribe', id: 'zone', channel: 'throughput', filter: { site: 'bac-luan-2' } });
      await client.next((m) => m.type === 'snapshot' && m.id === 'zone', 'snapshot');
      live.hub.publishTick(tick(true, 4), Date.now());
      expect(await client.next((m) => m.type === 'delta' && m.seq === 1, 'the provisional delta')).toMatchObject({ data: { provisional: true, events: 4 } });
      live.hub.publishTick(tick(false, 5), Date.now());
      expect(await client.next((m) => m.type === 'delta' && m.seq === 2, 'the confirmed delta')).toMatchObject({ data: { provisional: false, events: 5 } });
      // A stale provisional tick of the same events (behind the confirmed one) is not shown.
      live.hub.publishTick(tick(true, 4), Date.now());

      const late = await connectLiveClient(port, { origin: 'http://127.0.0.1:8080' });
      try {
        late.send({ type: 'subscribe', id: 'zone', channel: 'throughput', filter: { site: 'bac-luan-2' } });
        const snapshot = await late.next((m) => m.type === 'snapshot' && m.id === 'zone', 'the later snapshot');
        expect(snapshot).toMatchObject({ seq: 2, data: { windows: [{ provisional: false, events: 5 }] } });
      } finally {
        late.ws.close();
      }
      const metrics = (await live.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(sample(metrics, 'tower_live_tick_freshness_seconds_count')).toBe(1);
    } finally {
      client.ws.close();
      await live.closeGateway();
      await live.app.close();
    }
  });
});
