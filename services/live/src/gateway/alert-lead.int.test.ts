/** The lead of alert evaluation between gateway instances (real Redis; the gateway-kill drill does it with processes). */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { eventually, test } from '@tower/shared/testing';
import { migrate, queryRows } from '../../../aggregator/src/test-support.ts';
import type { Alert } from '../domain/alerts.ts';
import { startLive } from '../test-support.ts';
import { AlertStore } from './alert-store.ts';

describe('alert lead', () => {
  test("a follower takes the lead as soon as the leader's lease lapses, not at its next round", { timeout: 180_000 }, async ({ logger, clickhouse, redis, kafka }) => {
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

  test('a change the leader made in Redis but died before publishing is published by the next leader', { timeout: 180_000 }, async ({ logger, clickhouse, redis, kafka, createTopic }) => {
    await migrate(clickhouse.settings);
    const topic = await createTopic({ partitions: 1 });
    // The dead leader: it took the lead, raised an alert in Redis and was killed before the publish.
    const store = new AlertStore(redis.redis);
    expect((await store.lead('killed-gateway', 1000)).leads).toBe(true);
    const raised: Alert = { id: randomUUID(), cause: 'lane-fault:bac-luan-2/bl2-smart-ex-2', rule: 'lane-fault', severity: 'critical', site: 'bac-luan-2', lane: 'bl2-smart-ex-2', state: 'active', revision: 1, value: 1, threshold: 1, raisedAt: Date.now(), acknowledgedAt: null, acknowledgedBy: null, clearedAt: null };
    expect(await store.raise(raised)).toEqual(raised);
    const survivor = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, { topic, leaseMs: 3000, evaluateMs: 60_000, clearAfterMs: 600_000 });
    try {
      survivor.alertEngine.start();
      await survivor.alertEngine.evaluate();
      await eventually(async () => (survivor.alertEngine.isLeading ? true : undefined), { timeoutMs: 30_000, what: 'the survivor to lead' });
      // Its history and the topic every gateway pushes to walls from have the raise.
      const revisions = await eventually(async () => {
        const rows = await queryRows<{ revision: number }>(clickhouse.client, `SELECT revision FROM alert_events FINAL WHERE alert_id = '${raised.id}' ORDER BY revision`);
        return rows.length > 0 ? rows.map((r) => Number(r.revision)) : undefined;
      }, { timeoutMs: 30_000, what: "the dead leader's raise in alert_events" });
      expect(revisions).toEqual([1]);
      expect(await store.unpublished()).toEqual([]);
    } finally {
      await survivor.app.close();
    }
  });
});
