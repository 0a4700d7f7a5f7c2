import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import type { LaneEvent } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { EventStore } from '../../aggregator/src/store.ts';
import { migrate, queryRows } from '../../aggregator/src/test-support.ts';
import type { Alert } from './domain/alerts.ts';
import { alertFeed } from './gateway/broadcast-feed.ts';
import { LiveHub } from './gateway/hub.ts';
import { connectLiveClient, startLive, storeLaneEvents, testOperatorName, testTokens, withToken } from './test-support.ts';

async function alertsClient(port: number) {
  const client = await connectLiveClient(port);
  client.send({ type: 'subscribe', id: 'alerts', channel: 'alerts', filter: { site: 'bac-luan-2' } });
  const deltas = () => client.messages.filter((m) => m.type === 'delta').map((m) => m.data as Alert);
  return { ...client, deltas };
}

const laneEvent = (type: string, lane: string, observedAt: number, extra: object = {}) => ({ eventId: randomUUID(), type, site: 'bac-luan-2', lane, observedAt, source: 'test', ...extra }) as LaneEvent;

describe('alerts against real Redis, Kafka and ClickHouse', () => {
  test('two instances: one alert per cause, pushed to the clients of both; operators acknowledge over the API; it clears when the cause is gone; history in ClickHouse', { timeout: 90_000 }, async ({ logger, clickhouse, redis, kafka, createTopic }) => {
    await migrate(clickhouse.settings);
    const topic = await createTopic({ partitions: 3 });
    const instances = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const hub = new LiveHub(uniqueName(`alerts-${name}`), { resumeBufferDeltas: 100, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
        const feed = alertFeed(kafka, topic, uniqueName(`alerts-feed-${name}`), hub, logger);
        await feed.start();
        const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, hub }, {}, { topic, clearAfterMs: 1000 });
        await live.app.listen({ port: 0, host: '127.0.0.1' });
        return { feed, live, port: (live.app.server.address() as AddressInfo).port };
      }),
    );
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    try {
      await eventually(async () => (a.feed.ready && b.feed.ready ? true : undefined), { timeoutMs: 30_000, what: 'both alert feeds in their groups' });
      const clients = [await alertsClient(a.port), await alertsClient(b.port)];
      for (const client of clients) await eventually(async () => client.messages.find((m) => m.type === 'snapshot'), { what: 'alerts snapshot' });

      const store = new EventStore(clickhouse.client);
      const faultAt = Date.now() - 10_000;
      await storeLaneEvents(store, [laneEvent('lane.fault', 'bl2-smart-ex-2', faultAt, { faultCode: 'ANPR-DOWN' })]);
      // Both instances evaluate, several times, concurrently: one leads, one alert is raised.
      for (let round = 0; round < 3; round += 1) await Promise.all([a.live.alertEngine.evaluate(), b.live.alertEngine.evaluate()]);
      expect([a.live.alertEngine.isLeading, b.live.alertEngine.isLeading].filter(Boolean)).toHaveLength(1);
      for (const client of clients) await eventually(async () => client.deltas()[0], { what: 'the raised alert on every instance' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const client of clients) expect(client.deltas()).toHaveLength(1);
      const raised = clients[0]!.deltas()[0]!;
      expect(raised).toMatchObject({ rule: 'lane-fault', severity: 'critical', site: 'bac-luan-2', lane: 'bl2-smart-ex-2', state: 'active', revision: 1 });
      expect(clients[1]!.deltas()[0]).toEqual(raised);

      // Acknowledge: operators only, over either instance.
      const ack = (token: string | undefined, id = raised.id) =>
        b.live.app.inject({ method: 'POST', url: `/v1/alerts/${id}/acknowledge`, headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect((await ack(undefined)).statusCode).toBe(401);
      const display = await ack(testTokens.display);
      expect(display.statusCode).toBe(403);
      expect(display.headers['content-type']).toContain('application/problem+json');
      expect((await ack(testTokens.operator, 'no-such-alert')).statusCode).toBe(404);
      const acknowledged = await ack(testTokens.operator);
      expect(acknowledged.statusCode, acknowledged.body).toBe(200);
      // The operator's display name is recorded with the acknowledgement (the wall shows it), the token id beside it.
      expect(acknowledged.json<Alert>()).toMatchObject({ id: raised.id, state: 'acknowledged', acknowledgedBy: 'operator-t', acknowledgedByName: testOperatorName, revision: 2 });
      expect((await ack(testTokens.operator)).json<Alert>().revision).toBe(2); // twice is harmless
      for (const client of clients) {
        const delta = await eventually(async () => client.deltas().find((d) => d.state === 'acknowledged'), { what: 'the acknowledgement on every instance' });
        expect(delta.acknowledgedByName).toBe(testOperatorName);
      }
      // Listed (open, from Redis) with the name too.
      const open = (await a.live.app.inject({ url: '/v1/alerts?site=bac-luan-2', headers: withToken() })).json<{ alerts: Alert[] }>().alerts;
      expect(open.find((alert) => alert.id === raised.id)).toMatchObject({ state: 'acknowledged', acknowledgedByName: testOperatorName });

      // The lane is fixed: after the clear delay the alert clears.
      await storeLaneEvents(store, [laneEvent('lane.cleared', 'bl2-smart-ex-2', Date.now())]);
      await eventually(
        async () => {
          await Promise.all([a.live.alertEngine.evaluate(), b.live.alertEngine.evaluate()]);
          return clients.every((c) => c.deltas().some((d) => d.state === 'cleared')) ? true : undefined;
        },
        { timeoutMs: 20_000, what: 'the alert cleared on every instance' },
      );
      const cleared = clients[0]!.deltas().find((d) => d.state === 'cleared')!;
      expect(cleared).toMatchObject({ id: raised.id, revision: 3, acknowledgedBy: 'operator-t', acknowledgedByName: testOperatorName });

      const history = await queryRows<{ revision: number; state: string }>(clickhouse.client, `SELECT revision, state FROM alert_events FINAL WHERE alert_id = '${raised.id}' ORDER BY revision`);
      expect(history.map((r) => [Number(r.revision), r.state])).toEqual([[1, 'active'], [2, 'acknowledged'], [3, 'cleared']]);
      const listed = (await a.live.app.inject({ url: '/v1/alerts?site=bac-luan-2', headers: withToken() })).json<{ alerts: Alert[] }>().alerts;
      expect(listed).toEqual([cleared]);
      expect((await a.live.app.inject({ url: '/v1/alerts?site=atlantis', headers: withToken() })).statusCode).toBe(400);

      // An alert stored in Redis by the previous version (no acknowledgedByName) still lists and is acknowledged with the name.
      const { acknowledgedByName: _absent, ...stored } = { ...raised, id: randomUUID(), cause: 'queue-over-threshold:bac-luan-2/bl2-smart-im-1', rule: 'queue-over-threshold' as const, lane: 'bl2-smart-im-1' };
      await redis.redis.hset('alerts:open', stored.cause, JSON.stringify(stored));
      await redis.redis.hset('alerts:ids', stored.id, stored.cause);
      const before = await a.live.app.inject({ url: '/v1/alerts?site=bac-luan-2', headers: withToken() });
      expect(before.statusCode, before.body).toBe(200);
      expect(before.json<{ alerts: Alert[] }>().alerts.find((alert) => alert.id === stored.id)).toEqual(stored);
      expect((await ack(testTokens.operator, stored.id)).json<Alert>()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'operator-t', acknowledgedByName: testOperatorName });
      for (const client of clients) client.ws.close();
    } finally {
      for (const { feed, live } of instances) {
        await live.closeGateway();
        await live.app.close();
        await feed.stop();
      }
    }
  });
});
