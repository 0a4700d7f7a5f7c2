import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.ts';

async function closesByReason(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('tower_live_closes_total')!.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.reason), value.value]));
}

describe('gateway close counting', () => {
  it('counts a socket once: the first reason the gateway gave, not the socket error that follows, nor the client close', async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry);
    const slow = { bufferedAmount: 0 };
    metrics.closing(slow, 'too-slow');
    metrics.closing(slow, 'bad-frame'); // the library's error event for the same socket
    metrics.closed(slow, 4008);
    const broken = { bufferedAmount: 0 };
    metrics.closing(broken, 'bad-frame');
    metrics.closed(broken, 1009);
    const client = { bufferedAmount: 0 };
    metrics.closed(client, 1000);
    expect(await closesByReason(registry)).toEqual({ 'too-slow': 1, 'bad-frame': 1, 'client-closed': 1 });
  });
});
