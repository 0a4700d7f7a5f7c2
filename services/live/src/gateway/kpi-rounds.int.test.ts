/** One KPI reader for all gateway instances (issue 19 item 7): the alert lead reads rounds, the others take them from Redis (real Redis, ClickHouse, Kafka). */
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { LaneEvent } from '@tower/shared';
import { describe, expect } from 'vitest';
import { eventually, test } from '@tower/shared/testing';
import { migrate } from '../../../aggregator/src/test-support.ts';
import type { KpisNow } from '../domain/kpis.ts';
import { EventStore } from '../../../aggregator/src/store.ts';
import { connectLiveClient, startLive, storeLaneEvents } from '../test-support.ts';
import { kpiRoundKeys } from './kpi-rounds.ts';

/** tower_live_kpi_rounds_total of one instance, by source. */
async function rounds(metrics: Registry): Promise<{ clickhouse: number; leader: number }> {
  const values = (await metrics.getSingleMetric('tower_live_kpi_rounds_total')!.get()).values;
  const of = (source: string) => values.find((value) => value.labels.source === source)?.value ?? 0;
  return { clickhouse: of('clickhouse'), leader: of('leader') };
}

type Instance = Awaited<ReturnType<typeof startLive>>;

async function subscribeKpis(live: Instance) {
  const client = await connectLiveClient((live.app.server.address() as AddressInfo).port);
  client.send({ type: 'subscribe', id: 'tiles', channel: 'kpis', filter: {} });
  const snapshot = (await client.next((m) => m.type === 'snapshot' && m.id === 'tiles', 'kpis snapshot')).data as KpisNow;
  return { client, snapshot };
}

describe('KPI rounds shared between gateway instances', () => {
  test('only the alert lead reads KPI rounds from ClickHouse; a follower serves the same tiles from its rounds, and takes over reading when the leader dies', { timeout: 240_000 }, async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    // Rounds read again every second without ticks: a lane opened later reaches the tiles.
    const start = () => startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, { leaseMs: 4000, evaluateMs: 500 }, {}, { refreshMs: 200, maxAgeMs: 1000, fallbackMs: 3000 });
    const leader = await start();
    const follower = await start();
    const clients: Awaited<ReturnType<typeof subscribeKpis>>['client'][] = [];
    try {
      await leader.alertEngine.evaluate();
      await follower.alertEngine.evaluate();
      expect([leader.alertEngine.isLeading, follower.alertEngine.isLeading]).toEqual([true, false]);
      leader.alertEngine.start();
      follower.alertEngine.start();
      for (const live of [leader, follower]) await live.app.listen({ port: 0, host: '127.0.0.1' });

      const atFollower = await subscribeKpis(follower);
      const atLeader = await subscribeKpis(leader);
      clients.push(atFollower.client, atLeader.client);
      // Both answer from the leader's rounds: the same tiles (`at` is the round's, and a round may have come between the two).
      expect({ ...atFollower.snapshot, at: 0 }).toEqual({ ...atLeader.snapshot, at: 0 });
      expect(atFollower.snapshot.site).toBeNull();
      // The follower keeps taking rounds while its client watches, and never reads ClickHouse itself.
      await eventually(async () => ((await rounds(follower.metrics)).leader >= 3 ? true : undefined), { timeoutMs: 60_000, what: 'three rounds received by the follower' });
      expect((await rounds(follower.metrics)).clickhouse).toBe(0);
      expect((await rounds(leader.metrics)).clickhouse).toBeGreaterThanOrEqual(1);
      expect((await rounds(leader.metrics)).leader).toBe(0);

      // The leader dies: it stops reading and renewing its lease (its sockets stay open, like a hung process's).
      await leader.kpiBoard.stop();
      await leader.alertEngine.stop();
      await eventually(async () => (follower.alertEngine.isLeading ? true : undefined), { timeoutMs: 60_000, what: 'the follower to take the lead' });
      const before = await rounds(follower.metrics);
      // It reads rounds now, stores them for the others, and its client's stream goes on.
      await eventually(async () => ((await rounds(follower.metrics)).clickhouse >= before.clickhouse + 2 ? true : undefined), { timeoutMs: 60_000, what: 'the new leader reading rounds' });
      expect(await redis.redis.get(kpiRoundKeys.round)).not.toBeNull();
      // Its client, subscribed since before the leader died, gets the next figures.
      expect(atFollower.snapshot.lanesOpen).toBe(0);
      const opened: LaneEvent = { eventId: randomUUID(), type: 'lane.opened', site: 'bac-luan-2', lane: 'bl2-smart-ex-1', observedAt: Date.now() - 5000, source: 'test' } as LaneEvent;
      await storeLaneEvents(new EventStore(clickhouse.client), [opened]);
      const delta = await atFollower.client.next((m) => m.type === 'delta' && m.id === 'tiles' && (m.data as KpisNow).lanesOpen === 1, 'the opened lane in the tiles');
      expect(delta.data).toMatchObject({ site: null, lanesOpen: 1 });
    } finally {
      for (const client of clients) client.ws.close();
      for (const live of [leader, follower]) {
        await live.closeGateway();
        await live.app.close();
      }
    }
  });

  test('a follower with no leader feeding rounds reads ClickHouse itself (its metric says so), and takes rounds again once they come', { timeout: 240_000 }, async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    // Another instance holds the lead but feeds no rounds (a hung leader): this one must not freeze.
    expect(await redis.redis.set('alerts:leader', 'hung-gateway', 'PX', 600_000)).toBe('OK');
    const follower = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, { leaseMs: 600_000, evaluateMs: 500 }, {}, { refreshMs: 200, fallbackMs: 3000 });
    const clients: Awaited<ReturnType<typeof subscribeKpis>>['client'][] = [];
    try {
      await follower.alertEngine.evaluate();
      expect(follower.alertEngine.isLeading).toBe(false);
      await follower.app.listen({ port: 0, host: '127.0.0.1' });
      const watched = await subscribeKpis(follower);
      clients.push(watched.client);
      expect(watched.snapshot.site).toBeNull();
      expect(await rounds(follower.metrics)).toMatchObject({ leader: 0 });
      expect((await rounds(follower.metrics)).clickhouse).toBeGreaterThanOrEqual(1);
      // The hung leader wakes and stores a round: the follower takes it instead of reading.
      const fed = { ...watched.snapshot, at: Date.now() + 60_000 };
      await redis.redis.set(kpiRoundKeys.round, JSON.stringify({ at: fed.at, zone: fed, sites: [] }), 'PX', 60_000);
      await eventually(async () => ((await rounds(follower.metrics)).leader >= 1 ? true : undefined), { timeoutMs: 60_000, what: 'the stored round taken' });
      expect(await follower.kpiBoard.kpis({})).toEqual(fed);
      expect(await redis.redis.get(kpiRoundKeys.wanted)).toBe('1');
    } finally {
      for (const client of clients) client.ws.close();
      await follower.closeGateway();
      await follower.app.close();
    }
  });
});
