import { Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import { createProducer } from '@tower/shared';
import { eventually, eventuallyProgressing, test } from '@tower/shared/testing';
import { BroadcastFeed } from './broadcast-feed.ts';
import { FeedLagMetrics } from './feed-lag.ts';

/** The feed's lag summed over partitions, under its stable group name (not its per-process group id). */
const lagOf = async (registry: Registry, topic: string) => {
  const text = await registry.metrics();
  const values = [...text.matchAll(new RegExp(`^tower_consumer_lag_messages\\{group="live-lag-feed",topic="${topic}",partition="\\d+"\\} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : undefined;
};

describe('broadcast feed lag in /metrics', () => {
  test('a feed keeping up shows 0 behind its topic’s end; one that stopped reading shows the messages published since, per partition summed', async ({ kafka, admin, createTopic, logger }) => {
    const topic = await createTopic({ partitions: 2 });
    const delivered: string[] = [];
    const feed = new BroadcastFeed(kafka, topic, 'live-lag-feed', (value) => delivered.push(value.toString()), logger);
    const registry = new Registry();
    const lag = new FeedLagMetrics(kafka, () => [feed], registry, logger);
    const producer = createProducer(kafka);
    await producer.connect();
    const send = (from: number, count: number) =>
      producer.send([{ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `lane-${(from + i) % 7}`, value: JSON.stringify({ n: from + i }) })) }]);
    try {
      await feed.start();
      await eventually(async () => (feed.ready ? true : undefined), { timeoutMs: 60_000, what: 'the feed in its group' });
      expect(await lagOf(registry, topic)).toBe(0);
      // Published after the join: delivered, and the lag back to 0 once they are.
      await send(0, 10);
      await eventuallyProgressing({ what: 'ten messages delivered', progress: () => delivered.length, until: (n) => (n === 10 ? true : undefined), stallMs: 60_000 });
      expect(await lagOf(registry, topic)).toBe(0);

      // The feed stops reading (a stalled instance): what is published now is how far behind it is.
      await feed.stop();
      await send(10, 7);
      await eventually(async () => ((await lagOf(registry, topic)) === 7 ? true : undefined), { timeoutMs: 30_000, what: 'a lag of 7' });
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.reduce((sum, o) => sum + Number(o.high), 0)).toBe(17);
    } finally {
      await producer.disconnect();
      await feed.stop();
      await lag.stop();
    }
  });
});
