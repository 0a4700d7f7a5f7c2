import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { selectRows, sql, type SlotAvailability, type SlotBooking } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { bearer, registerFleet, startSlots, testKeys as slotKeys } from '../../slots/src/test-support.ts';
import { slotFeed } from './gateway/broadcast-feed.ts';
import { LiveHub } from './gateway/hub.ts';
import { connectLiveClient, startLive, testTokens } from './test-support.ts';

const windowMs = 30 * 60_000;

describe('slot feeds: slots service → tower.slots.v1 → gateway → WebSocket', () => {
  test('public availability and each firm’s own bookings, snapshot (ClickHouse and plan) then live; a firm never sees another firm’s bookings', { timeout: 90_000 }, async ({ kafka, logger, createTopic, clickhouse, redis }) => {
    await migrate(clickhouse.settings);
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    await slots.history.start();
    const hub = new LiveHub(uniqueName('slots'), { resumeBufferDeltas: 100, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, hub });
    const feed = slotFeed(kafka, topics.slots, uniqueName('slots-feed'), hub, live.slotBoard, logger);
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (live.app.server.address() as AddressInfo).port;
    try {
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const hold = async (key: string, plate: string, firmKey = slotKeys.haiha) => {
        await registerFleet(slots.http, firmKey, [plate]);
        const response = await slots.http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(firmKey), 'idempotency-key': key }, payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'solar-cells' } });
        expect(response.statusCode).toBe(201);
        return response.json<SlotBooking>();
      };
      // Booked before the gateway reads the feed: the snapshot has it from ClickHouse.
      const early = await hold('feed-early-1', '14C-701.01');
      expect((await slots.http.inject({ method: 'POST', url: `/v1/bookings/${early.id}/confirm`, headers: bearer(slotKeys.haiha) })).statusCode).toBe(200);
      await eventually(async () => ((await selectRows(clickhouse.client, sql`SELECT 1 FROM slot_windows WHERE version >= 2`)).length > 0 ? true : undefined), { what: 'the early booking in ClickHouse', timeoutMs: 20_000 });
      await feed.start();
      await eventually(async () => (feed.ready ? true : undefined), { timeoutMs: 30_000, what: 'the slot feed in its group' });

      const haiha = await connectLiveClient(port, { token: testTokens.haiha });
      const donghung = await connectLiveClient(port, { token: testTokens.donghung });
      const wall = await connectLiveClient(port, { token: testTokens.display });
      haiha.send({ type: 'subscribe', id: 'mine', channel: 'bookings' });
      haiha.send({ type: 'subscribe', id: 'places', channel: 'slots', filter: { site: 'bac-luan-2' } });
      haiha.send({ type: 'subscribe', id: 'zone', channel: 'slots' });
      donghung.send({ type: 'subscribe', id: 'mine', channel: 'bookings' });
      donghung.send({ type: 'subscribe', id: 'spy', channel: 'bookings', filter: { firm: 'haiha-logistics' } });
      donghung.send({ type: 'subscribe', id: 'ops', channel: 'throughput' });
      wall.send({ type: 'subscribe', id: 'bookings', channel: 'bookings' });
      wall.send({ type: 'subscribe', id: 'places', channel: 'slots' });

      const mine = await haiha.next((m) => m.type === 'snapshot' && m.id === 'mine', 'the firm’s bookings snapshot');
      expect((mine.data as { bookings: SlotBooking[] }).bookings).toEqual([{ ...early, state: 'confirmed', updatedAt: expect.any(Number), updatedAtIso: expect.any(String) }]);
      const places = await haiha.next((m) => m.type === 'snapshot' && m.id === 'places', 'the slots snapshot');
      const windows = (places.data as { windows: SlotAvailability[] }).windows;
      expect(windows.find((w) => w.windowStart === windowStart && w.laneKind === 'smart' && w.direction === 'export')).toMatchObject({ capacity: 360, held: 0, booked: 1, free: 359, closed: false });
      // Untouched windows come from the plan; every lane group of the site is there, 6 hours ahead.
      expect(windows.every((w) => w.site === 'bac-luan-2')).toBe(true);
      expect(new Set(windows.map((w) => w.windowStart)).size).toBe(12);
      expect(windows.find((w) => w.laneKind === 'igv')).toMatchObject({ capacity: 15, version: 0 });
      // The whole zone: every operating site's groups, none of Vạn Ninh (under construction, no bookings).
      const zone = (await haiha.next((m) => m.type === 'snapshot' && m.id === 'zone', 'the zone’s slots snapshot')).data as { windows: SlotAvailability[] };
      expect(new Set(zone.windows.map((w) => w.site))).toEqual(new Set(['bac-luan-2', 'km3-4-hai-yen', 'ka-long', 'po-hen', 'hoanh-mo', 'bac-phong-sinh', 'van-gia']));

      expect((await donghung.next((m) => m.type === 'snapshot' && m.id === 'mine', 'the other firm’s snapshot')).data).toEqual({ bookings: [] });
      expect(await donghung.next((m) => m.id === 'spy', 'refusal of another firm’s bookings')).toMatchObject({ type: 'error', code: 'forbidden' });
      expect(await donghung.next((m) => m.id === 'ops', 'refusal of an operations channel')).toMatchObject({ type: 'error', code: 'forbidden' });
      expect(await wall.next((m) => m.id === 'bookings', 'refusal of bookings to a display')).toMatchObject({ type: 'error', code: 'forbidden' });
      await wall.next((m) => m.type === 'snapshot' && m.id === 'places', 'the wall’s slots snapshot');

      // Live: a new hold, then an operator's cancellation, reach the firm; the places reach everyone.
      const later = await hold('feed-later-1', '14C-701.02');
      const held = await haiha.next((m) => m.type === 'delta' && m.id === 'mine', 'the new hold live');
      expect(held.data).toEqual(later);
      await slots.http.inject({ method: 'DELETE', url: `/v1/bookings/${later.id}`, headers: bearer(slotKeys.operator) });
      const cancelled = await haiha.next((m) => m.type === 'delta' && m.id === 'mine' && (m.data as SlotBooking).state === 'cancelled', 'the operator’s cancellation live');
      expect(cancelled.data).toMatchObject({ id: later.id, cancelledBy: 'operator' });
      await wall.next((m) => m.type === 'delta' && m.id === 'places' && (m.data as SlotAvailability).held === 0 && (m.data as SlotAvailability).version >= 4, 'the places after the cancellation on the wall');
      const placeDeltas = haiha.messages.filter((m) => m.type === 'delta' && m.id === 'places').map((m) => m.data as SlotAvailability);
      expect(placeDeltas.map((w) => [w.held, w.booked])).toEqual([
        [1, 1],
        [0, 1],
      ]);

      // The other firm's private stream stayed silent throughout.
      await hold('feed-donghung-1', '14C-701.03', slotKeys.donghung);
      const own = await donghung.next((m) => m.type === 'delta' && m.id === 'mine', 'the other firm’s own hold');
      expect(own.data).toMatchObject({ firm: 'donghung-trade' });
      expect(donghung.messages.filter((m) => m.type === 'delta' && m.id === 'mine').every((m) => (m.data as SlotBooking).firm === 'donghung-trade')).toBe(true);
      expect(haiha.messages.filter((m) => m.type === 'delta' && m.id === 'mine').every((m) => (m.data as SlotBooking).firm === 'haiha-logistics')).toBe(true);
      for (const client of [haiha, donghung, wall]) client.ws.close();
    } finally {
      await live.closeGateway();
      await live.app.close();
      await feed.stop();
      await slots.close();
    }
  });
});
