/** The lead of alert evaluation between gateway instances (real Redis; the gateway-kill drill does it with processes). */
import { describe, expect } from 'vitest';
import { eventually, test } from '@tower/shared/testing';
import { migrate } from '../../../aggregator/src/test-support.ts';
import { startLive } from '../test-support.ts';

describe('alert lead', () => {
  test("a follower takes the lead as soon as the leader's lease lapses, not at its next round", { timeout: 90_000 }, async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const leaseMs = 3000;
    // Rounds far apart: a follower that only tries at its rounds would wait a minute.
    const settings = { leaseMs, evaluateMs: 60_000 };
    const [leader, follower] = [await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, settings), await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, settings)];
    try {
      await leader.alertEngine.evaluate();
      follower.alertEngine.start();
      await follower.alertEngine.evaluate();
      expect([leader.alertEngine.isLeading, follower.alertEngine.isLeading]).toEqual([true, false]);
      // The leader dies (it never renews): its lease lapses within leaseMs.
      const diedAt = Date.now();
      await eventually(async () => (follower.alertEngine.isLeading ? true : undefined), { timeoutMs: leaseMs + 20_000, what: 'the follower to take the lead' });
      const handoverMs = Date.now() - diedAt;
      expect(await redis.redis.get('alerts:leader')).toBe(follower.hub.epoch);
      expect(handoverMs).toBeGreaterThanOrEqual(leaseMs - 500);
    } finally {
      for (const live of [leader, follower]) await live.app.close();
    }
  });
});
