import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { migrate } from '../../../aggregator/src/test-support.ts';
import { connectLiveClient, startLive, testTokens } from '../test-support.ts';

/** One sample of the Prometheus text whose line starts so (labels in the registry's order), NaN when absent. */
const sample = (text: string, start: string) => Number(text.split('\n').find((l) => l.startsWith(start))?.split(' ').at(-1));

describe('live gateway snapshot duration histogram', () => {
  test('observes, per snapshot sent to a real client, the time from its subscribe, by channel and role', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (live.app.server.address() as AddressInfo).port;
    const wall = await connectLiveClient(port, { origin: 'http://127.0.0.1:8080' });
    const operator = await connectLiveClient(port, { origin: 'http://127.0.0.1:8080', token: testTokens.operator });
    try {
      wall.send({ type: 'subscribe', id: 'zone', channel: 'throughput', filter: { site: 'bac-luan-2' } });
      operator.send({ type: 'subscribe', id: 'kpis', channel: 'kpis' });
      operator.send({ type: 'subscribe', id: 'lanes', channel: 'lanes' });
      await wall.next((m) => m.type === 'snapshot' && m.id === 'zone', 'the wall’s snapshot');
      await operator.next((m) => m.type === 'snapshot' && m.id === 'kpis', 'the operator’s kpis snapshot');
      await operator.next((m) => m.type === 'snapshot' && m.id === 'lanes', 'the operator’s lanes snapshot');

      const metrics = (await live.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('# TYPE tower_live_snapshot_duration_seconds histogram');
      const count = (channel: string, role: string) => sample(metrics, `tower_live_snapshot_duration_seconds_count{channel="${channel}",role="${role}"`);
      const sum = (channel: string, role: string) => sample(metrics, `tower_live_snapshot_duration_seconds_sum{channel="${channel}",role="${role}"`);
      expect(count('throughput', 'display')).toBe(1);
      expect(count('kpis', 'operator')).toBe(1);
      expect(count('lanes', 'operator')).toBe(1);
      expect(metrics).not.toContain('tower_live_snapshot_duration_seconds_count{channel="throughput",role="operator"');
      // A real read of ClickHouse takes some time, and less than the test's own deadlines.
      expect(sum('throughput', 'display')).toBeGreaterThan(0);
      expect(sum('throughput', 'display')).toBeLessThan(30);
      expect(sample(metrics, 'tower_live_snapshot_duration_seconds_bucket{le="+Inf",channel="kpis",role="operator"')).toBe(1);
    } finally {
      wall.ws.close();
      operator.ws.close();
      await live.closeGateway();
      await live.app.close();
    }
  });
});
