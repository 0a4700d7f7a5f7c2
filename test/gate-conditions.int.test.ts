/**
 * The gate conditions firms read (issue 18): computed by the live service from its KPI
 * round (lane events and truck crossings in ClickHouse) and the slot windows (an
 * operator's closure stored by the slots service's history), sent on the `conditions`
 * channel to a firm's socket (snapshot, then the lane group that changed), answered by
 * the live GET /v1/conditions to a firm's key, written to Redis by the instance leading
 * alert evaluation only, and served from there by the slots service until it expires.
 */
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { emptyMeasures, gateConditionsKey, selectRows, sql, type GateConditions, type LaneEvent, type LaneGroupConditions, type TruckEvent } from '@tower/shared';
import { eventually, test } from '@tower/shared/testing';
import { EventStore } from '../services/aggregator/src/store.ts';
import { migrate } from '../services/aggregator/src/test-support.ts';
import { connectLiveClient, startLive, storeEvents, testTokens, withToken } from '../services/live/src/test-support.ts';
import { bearer, startSlots, testKeys as slotKeys } from '../services/slots/src/test-support.ts';

const windowMs = 30 * 60_000;
const isSmartExport = (g: LaneGroupConditions) => g.site === 'bac-luan-2' && g.laneKind === 'smart' && g.direction === 'export';
const withoutAsOf = ({ asOf: _asOf, asOfIso: _asOfIso, ...rest }: LaneGroupConditions) => rest;

describe('gate conditions for firms', () => {
  test('live channel and API from the KPI round and the slot windows, the view in Redis from the leading instance, served by the slots service while fresh', { timeout: 180_000 }, async ({ logger, clickhouse, redis, kafka, createTopic }) => {
    await migrate(clickhouse.settings);
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    await slots.history.start();
    const current = Math.floor(Date.now() / windowMs) * windowMs;
    const window = (start: number, change: object) =>
      slots.http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(slotKeys.operator), payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: start, ...change } });
    // Changed before the gateway started: the conditions read them from ClickHouse (the feed brings later ones).
    expect((await window(current + windowMs, { closed: true })).statusCode).toBe(200);
    expect((await window(current + 2 * windowMs, { capacity: 100 })).statusCode).toBe(200);
    await eventually(async () => ((await selectRows(clickhouse.client, sql`SELECT 1 FROM slot_windows WHERE version >= 1`)).length >= 2 ? true : undefined), { what: 'the two windows in ClickHouse', timeoutMs: 60_000 });

    const at = Date.now() - 5_000;
    const laneEvent = (type: string, lane: string, extra: object = {}) => ({ eventId: randomUUID(), type, site: 'bac-luan-2', lane, observedAt: at, source: 'test', ...extra }) as LaneEvent;
    const store = new EventStore(clickhouse.client);
    await storeEvents(store, 'lane', [
      laneEvent('lane.opened', 'bl2-smart-ex-1'),
      laneEvent('lane.queue-sampled', 'bl2-smart-ex-1', { queueLength: 12 }),
      laneEvent('lane.opened', 'bl2-smart-ex-2'),
      laneEvent('lane.queue-sampled', 'bl2-smart-ex-2', { queueLength: 6 }),
      laneEvent('lane.fault', 'bl2-smart-ex-3', { faultCode: 'ANPR-DOWN' }),
    ]);
    // 60 trucks over the border in the last half hour: 60 an hour.
    const crossed = Array.from({ length: 60 }, (_, i): TruckEvent => ({ eventId: randomUUID(), type: 'truck.border-crossed', site: 'bac-luan-2', lane: i % 2 ? 'bl2-smart-ex-1' : 'bl2-smart-ex-2', observedAt: at - i * 30_000, source: 'test', plate: `14C-${String(100 + i)}.${String(10 + i)}`, plateCountry: 'VN', direction: 'export' }));
    await storeEvents(store, 'truck', crossed);

    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, {}, { redisTtlMs: 2000 });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const firm = await connectLiveClient((live.app.server.address() as AddressInfo).port, { token: testTokens.haiha });
    try {
      firm.send({ type: 'subscribe', id: 'gate', channel: 'conditions', filter: { site: 'bac-luan-2' } });
      const snapshot = (await firm.next((m) => m.type === 'snapshot' && m.id === 'gate', 'the conditions snapshot')).data as GateConditions;
      expect(snapshot.thresholds).toEqual({ busyWaitMinutes: 20, congestedWaitMinutes: 45, busyQueueVehicles: 30, congestedQueueVehicles: 60, minTrucksPerHour: 6 });
      expect(snapshot.groups.every((g) => g.site === 'bac-luan-2')).toBe(true);
      expect(snapshot.groups.map((g) => `${g.laneKind}|${g.direction}`).sort()).toEqual(['igv|export', 'igv|import', 'smart|export', 'smart|import']);
      const smart = snapshot.groups.find(isSmartExport)!;
      expect(smart).toMatchObject({ trucksQueuing: 18, lanesOpen: 2, lanesTotal: 3, throughputPerHour: 60, expectedWaitMinutes: 18, waitUnknownReason: null, level: 'normal' });
      expect(smart.names.vi).toMatch(/^Làn/);
      expect(smart.nextWindows).toHaveLength(4);
      expect(smart.nextWindows.find((w) => w.windowStart === current + windowMs)).toMatchObject({ closed: true, placesFree: 0 });
      expect(smart.nextWindows.find((w) => w.windowStart === current + 2 * windowMs)).toMatchObject({ closed: false, capacity: 100, placesFree: 100 });
      // Lanes that never said they are open: no wait, and the group is closed.
      expect(snapshot.groups.find((g) => g.laneKind === 'igv' && g.direction === 'export')).toMatchObject({ lanesOpen: 0, expectedWaitMinutes: null, waitUnknownReason: 'no-lane-open', level: 'closed' });
      // This instance does not lead alert evaluation (nobody asked it to): it writes nothing to Redis.
      expect(await redis.redis.get(gateConditionsKey)).toBeNull();

      // The queue grows at one lane: the group's delta, congested (46 trucks at 60 an hour).
      await storeEvents(store, 'lane', [{ ...laneEvent('lane.queue-sampled', 'bl2-smart-ex-1', { queueLength: 40 }), observedAt: Date.now() - 1000 }]);
      live.hub.publishTick({ site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart: Math.floor(Date.now() / 60_000) * 60_000, windowEnd: Math.floor(Date.now() / 60_000) * 60_000 + 60_000, final: false, correction: false, ...emptyMeasures, events: 1, newestIngestedAt: Date.now(), publishedAt: Date.now() }, Date.now());
      const delta = await firm.next((m) => m.type === 'delta' && m.id === 'gate' && isSmartExport(m.data as LaneGroupConditions), 'the smart export lanes’ delta');
      expect(delta.data).toMatchObject({ trucksQueuing: 46, expectedWaitMinutes: 46, level: 'congested' });

      // The same on the live HTTP API, to a firm's key and a display's; nothing without a token.
      const answer = await live.app.inject({ method: 'GET', url: '/v1/conditions?site=bac-luan-2', headers: withToken(testTokens.haiha) });
      expect(answer.statusCode).toBe(200);
      expect(withoutAsOf(answer.json<GateConditions>().groups.find(isSmartExport)!)).toEqual(withoutAsOf(delta.data as LaneGroupConditions));
      expect((await live.app.inject({ method: 'GET', url: '/v1/conditions', headers: withToken(testTokens.display) })).json<GateConditions>().groups.some((g) => g.site === 'km3-4-hai-yen')).toBe(true);
      expect((await live.app.inject({ method: 'GET', url: '/v1/conditions' })).statusCode).toBe(401);
      // The rest of the history API stays closed to firms.
      expect((await live.app.inject({ method: 'GET', url: '/v1/kpis/now', headers: withToken(testTokens.haiha) })).statusCode).toBe(403);
    } finally {
      firm.ws.close();
    }

    try {
      // The slots service has nothing to serve yet: 503 naming the conditions.
      const unavailable = await slots.http.inject({ method: 'GET', url: '/v1/conditions', headers: bearer(slotKeys.haiha) });
      expect(unavailable.statusCode).toBe(503);
      expect(unavailable.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(unavailable.json()).toMatchObject({ dependency: 'conditions' });

      // Leading alert evaluation, the instance writes the view of each round it reads (one at least every ALERT_EVALUATE_MS); the slots service serves it to a firm and an operator.
      await eventually(async () => {
        await live.alertEngine.evaluate();
        return (await redis.redis.get(gateConditionsKey)) === null ? undefined : true;
      }, { what: 'the leading instance to write the view', timeoutMs: 60_000 });
      expect(live.alertEngine.isLeading).toBe(true);
      const served = await slots.http.inject({ method: 'GET', url: '/v1/conditions?site=bac-luan-2', headers: bearer(slotKeys.haiha) });
      expect(served.statusCode).toBe(200);
      const view = served.json<GateConditions>();
      expect(view.groups.every((g) => g.site === 'bac-luan-2')).toBe(true);
      expect(view.groups.find(isSmartExport)).toMatchObject({ trucksQueuing: 46, level: 'congested' });
      expect((await slots.http.inject({ method: 'GET', url: '/v1/conditions', headers: bearer(slotKeys.operator) })).statusCode).toBe(200);
      expect((await slots.http.inject({ method: 'GET', url: '/v1/conditions', headers: bearer(slotKeys.display) })).statusCode).toBe(403);

      // No more rounds (nobody watches, the engine is not started): the view expires and the slots service says so, never serving it stale.
      const stale = await eventually(async () => {
        const response = await slots.http.inject({ method: 'GET', url: '/v1/conditions', headers: bearer(slotKeys.haiha) });
        return response.statusCode === 503 ? response : undefined;
      }, { what: 'the view to expire', timeoutMs: 60_000 });
      expect(stale.json()).toMatchObject({ status: 503, dependency: 'conditions' });
    } finally {
      await live.closeGateway();
      await live.app.close();
      await slots.close();
    }
  });
});
