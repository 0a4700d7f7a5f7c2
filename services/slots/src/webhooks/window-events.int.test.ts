import { describe, expect } from 'vitest';
import { gateConditionsKey, vietnamIso, type ConditionLevel, type GateConditions, type SlotBooking } from '@tower/shared';
import { eventually, test } from '@tower/shared/testing';
import type { SlotsService } from '../app.ts';
import { bearer, startSlots, testKeys, testWebhookSettings } from '../test-support.ts';
import { ownTruck, signedWith, slotsTopics, startReceiver, type Received } from './test-support.ts';

const windowMs = 30 * 60_000;
const group = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export' } as const;

/** The slots API as a test calls it. */
function apiOf(slots: SlotsService) {
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, key: string, payload?: object, headers: Record<string, string> = {}) =>
    slots.http.inject({ method, url, headers: { ...bearer(key), ...headers }, ...(payload ? { payload } : {}) });
  return {
    call,
    /** A hold of `plate` in the window, the truck put in the firm's fleet first. */
    async hold(key: string, plate: string, windowStart: number): Promise<SlotBooking> {
      await ownTruck(slots.http, key, plate);
      const response = await call('POST', '/v1/bookings', key, { ...group, windowStart, plate, cargoClass: 'farm-produce' }, { 'idempotency-key': `${plate}-${Date.now()}-${Math.random()}` });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<SlotBooking>();
    },
    async setWindow(windowStart: number, change: { capacity?: number; closed?: boolean }) {
      const response = await call('PUT', '/v1/windows', testKeys.operator, { ...group, windowStart, ...change });
      expect(response.statusCode, response.body).toBe(200);
    },
    async register(key: string, url: string, events: string[]): Promise<{ id: string; secret: string }> {
      const response = await call('POST', '/v1/webhooks', key, { url, events });
      expect(response.statusCode, response.body).toBe(201);
      return response.json();
    },
  };
}

/** The events a receiver got on one path, of the types given. */
const on = (received: Received[], path: string, ...types: string[]) => received.filter((r) => r.path === path && types.includes(r.event.type));

/** A view of the gate conditions as the live service writes it, with the levels given per smart and manual export group of Bắc Luân II. */
function conditionsView(levels: { smart: ConditionLevel; manual: ConditionLevel }, asOf = Date.now()): GateConditions {
  const names = { vi: 'Bắc Luân II', en: 'Bac Luan II', zh: '北仑二桥' };
  return {
    asOf,
    asOfIso: vietnamIso(asOf),
    thresholds: { busyWaitMinutes: 20, congestedWaitMinutes: 45, busyQueueVehicles: 10, congestedQueueVehicles: 20, minTrucksPerHour: 6 },
    groups: (['smart', 'manual'] as const).map((laneKind) => ({
      site: 'bac-luan-2',
      laneKind,
      direction: 'export' as const,
      siteNames: names,
      names,
      trucksQueuing: 4,
      lanesOpen: 2,
      lanesTotal: 3,
      throughputPerHour: 30,
      expectedWaitMinutes: 8,
      waitUnknownReason: null,
      level: levels[laneKind],
      nextWindows: [],
      asOf,
      asOfIso: vietnamIso(asOf),
    })),
  };
}

describe('webhook events beyond booking changes, on real Redis and Kafka, to a real receiver', () => {
  test('an operator closes a window or cuts its places: each firm with bookings there gets one signed event naming its own bookings; a firm without gets none', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) });
    try {
      const api = apiOf(slots);
      for (const part of slots.webhooks.parts) await part.start();
      await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
      const windowEvents = ['window.closed', 'window.capacity-cut'];
      const haiha = await api.register(testKeys.haiha, `${receiver.url}/haiha`, windowEvents);
      const donghung = await api.register(testKeys.donghung, `${receiver.url}/donghung`, windowEvents);
      const secretOf = (r: Received) => (r.path.endsWith('/haiha') ? haiha.secret : donghung.secret);

      const first = Math.ceil((Date.now() + 4 * 3_600_000) / windowMs) * windowMs;
      const second = first + windowMs;
      // The first window: two live bookings of Hải Hà (one confirmed), one it cancelled, one of Đông Hưng. The second: Đông Hưng's only.
      const held = await api.hold(testKeys.haiha, '14C-611.01', first);
      const confirmed = await api.hold(testKeys.haiha, '14C-611.02', first);
      expect((await api.call('POST', `/v1/bookings/${confirmed.id}/confirm`, testKeys.haiha)).statusCode).toBe(200);
      const cancelled = await api.hold(testKeys.haiha, '14C-611.03', first);
      expect((await api.call('DELETE', `/v1/bookings/${cancelled.id}`, testKeys.haiha)).statusCode).toBe(200);
      const theirs = await api.hold(testKeys.donghung, '14C-622.01', first);
      const theirsLater = await api.hold(testKeys.donghung, '14C-622.02', second);

      // A capacity cut in the first window: both firms are told, each of its own bookings only.
      await api.setWindow(first, { capacity: 3 });
      await eventually(async () => (on(receiver.received, '/hooks/haiha', 'window.capacity-cut').length > 0 && on(receiver.received, '/hooks/donghung', 'window.capacity-cut').length > 0 ? true : undefined), { timeoutMs: 30_000, what: 'the capacity cut told to both firms' });
      const [cutHaiha] = on(receiver.received, '/hooks/haiha', 'window.capacity-cut');
      expect(cutHaiha?.event).toMatchObject({ type: 'window.capacity-cut', occurredAt: expect.stringMatching(/\+07:00$/), window: { ...group, windowStart: first, windowStartIso: expect.stringMatching(/\+07:00$/), capacity: 3, closed: false } });
      expect(cutHaiha?.event.previousCapacity).toBeGreaterThan(3);
      expect(cutHaiha?.event.bookings?.map((b) => [b.id, b.plate, b.state]).sort()).toEqual([[held.id, held.plate, 'held'], [confirmed.id, confirmed.plate, 'confirmed']].sort());
      const [cutDonghung] = on(receiver.received, '/hooks/donghung', 'window.capacity-cut');
      expect(cutDonghung?.event.bookings?.map((b) => b.id)).toEqual([theirs.id]);
      expect(cutDonghung?.body).not.toContain('haiha');
      expect(cutHaiha?.body).not.toContain('donghung');

      // The second window closed: only Đông Hưng has bookings there.
      await api.setWindow(second, { closed: true });
      await eventually(async () => (on(receiver.received, '/hooks/donghung', 'window.closed').length > 0 ? true : undefined), { timeoutMs: 30_000, what: 'the closure told to the firm with a booking there' });
      expect(on(receiver.received, '/hooks/donghung', 'window.closed')[0]?.event).toMatchObject({ window: { windowStart: second, closed: true }, bookings: [{ id: theirsLater.id, plate: '14C-622.02' }] });

      // The first window closed; closed again, places raised: no news in either.
      await api.setWindow(first, { closed: true });
      await api.setWindow(first, { closed: true });
      const planned = cutHaiha?.event.previousCapacity ?? 0;
      await api.setWindow(first, { capacity: planned });
      await api.setWindow(second, { capacity: planned + 10 });
      // Then a cut of the second (a mark: everything before it has been read).
      await api.setWindow(second, { capacity: 2 });
      await eventually(async () => (on(receiver.received, '/hooks/donghung', 'window.capacity-cut').length === 2 ? true : undefined), { timeoutMs: 30_000, what: 'the second window’s cut' });
      await eventually(async () => (on(receiver.received, '/hooks/haiha', 'window.closed').length > 0 ? true : undefined), { timeoutMs: 30_000, what: 'the first window’s closure' });

      const told = (path: string) => receiver.received.map((r) => (r.path === path ? `${r.event.type} ${r.event.window?.windowStart === first ? 'first' : 'second'}` : undefined)).filter((t) => t !== undefined);
      expect(told('/hooks/haiha')).toEqual(['window.capacity-cut first', 'window.closed first']);
      expect(told('/hooks/donghung').sort()).toEqual(['window.capacity-cut first', 'window.capacity-cut second', 'window.closed first', 'window.closed second']);
      expect(on(receiver.received, '/hooks/haiha', 'window.closed')[0]?.event.bookings?.map((b) => b.id).sort()).toEqual([held.id, confirmed.id].sort());
      for (const r of receiver.received) {
        expect(signedWith(secretOf(r), r), r.path).toBe(true);
        expect(r.headers['tower-webhook-id']).toBe(r.event.id);
      }
      expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(receiver.received.length);
    } finally {
      await slots.close();
      await receiver.close();
    }
  });

  test('an endpoint paused after failing is told to the firm’s other endpoint that subscribes to it (not to another firm’s), shows paused with its reason, and in /metrics', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    receiver.answerWith((r) => (r.path.endsWith('/down') ? 500 : 200));
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) }, { webhooks: { ...testWebhookSettings(`webhooks-${Date.now()}`), pauseAfter: 3 } });
    try {
      const api = apiOf(slots);
      for (const part of slots.webhooks.parts) await part.start();
      await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
      const down = await api.register(testKeys.haiha, `${receiver.url}/down`, ['booking.state-changed']);
      const watcher = await api.register(testKeys.haiha, `${receiver.url}/watcher`, ['endpoint.paused']);
      await api.register(testKeys.haiha, `${receiver.url}/bookings`, ['booking.state-changed']);
      await api.register(testKeys.donghung, `${receiver.url}/theirs`, ['endpoint.paused', 'booking.state-changed']);

      const booking = await api.hold(testKeys.haiha, '14C-633.01', Math.ceil((Date.now() + 4 * 3_600_000) / windowMs) * windowMs);
      await eventually(async () => (on(receiver.received, '/hooks/watcher', 'endpoint.paused').length > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the pause told' });
      const [notice] = on(receiver.received, '/hooks/watcher', 'endpoint.paused');
      expect(notice?.event).toMatchObject({ type: 'endpoint.paused', occurredAt: expect.stringMatching(/\+07:00$/), endpoint: { id: down.id, url: `${receiver.url}/down`, state: 'paused', pausedReason: expect.stringMatching(/^3 deliveries in a row failed; the last: HTTP 500$/), resume: `POST /v1/webhooks/${down.id}:resume` } });
      expect(notice && signedWith(watcher.secret, notice)).toBe(true);

      const view = (await api.call('GET', `/v1/webhooks/${down.id}`, testKeys.haiha)).json<{ state: string; pausedReason: string; queuedDeliveries: number }>();
      expect(view).toMatchObject({ state: 'paused', pausedReason: notice?.event.endpoint?.pausedReason, queuedDeliveries: 1 });
      const metrics = (await slots.http.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^tower_slots_webhook_endpoints\{state="paused"\} 1$/m);
      expect(metrics).toMatch(/^tower_slots_webhook_endpoints\{state="active"\} 3$/m);
      expect(metrics).toMatch(/^tower_slots_webhook_queue_depth\{state="paused"\} 1$/m);
      expect(metrics).toMatch(/^tower_slots_webhook_endpoints_paused_total 1$/m);

      // Told once; the other firm hears nothing of it (nor of the booking), the firm's booking endpoint got the booking only.
      await eventually(async () => (on(receiver.received, '/hooks/bookings', 'booking.state-changed').some((r) => r.event.booking.id === booking.id) ? true : undefined), { timeoutMs: 30_000, what: 'the booking delivered elsewhere' });
      expect(on(receiver.received, '/hooks/watcher', 'endpoint.paused', 'booking.state-changed')).toHaveLength(1);
      expect(receiver.received.filter((r) => r.path === '/hooks/theirs')).toEqual([]);
      expect(on(receiver.received, '/hooks/bookings', 'endpoint.paused')).toEqual([]);
    } finally {
      await slots.close();
      await receiver.close();
    }
  });

  test('an endpoint holds at most WEBHOOKS_MAX_QUEUED_PER_ENDPOINT deliveries: later ones are refused and counted (endpoint, /metrics), a replay is a 409', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    receiver.answerWith(() => 503);
    // Retries far apart: what is queued stays queued while the test looks.
    const settings = { ...testWebhookSettings(`webhooks-${Date.now()}`), maxQueuedPerEndpoint: 3, retry: { initialMs: 600_000, maxMs: 600_000, retryForMs: 3_600_000 } };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) }, { webhooks: settings });
    try {
      const api = apiOf(slots);
      for (const part of slots.webhooks.parts) await part.start();
      await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
      const endpoint = await api.register(testKeys.haiha, receiver.url, ['booking.state-changed']);
      const windowStart = Math.ceil((Date.now() + 4 * 3_600_000) / windowMs) * windowMs;
      for (let i = 0; i < 5; i += 1) await api.hold(testKeys.haiha, `14C-644.0${i}`, windowStart);

      const view = await eventually(
        async () => {
          const current = (await api.call('GET', `/v1/webhooks/${endpoint.id}`, testKeys.haiha)).json<{ queuedDeliveries: number; refusedDeliveries: number }>();
          return current.queuedDeliveries + current.refusedDeliveries === 5 ? current : undefined;
        },
        { timeoutMs: 30_000, what: 'five changes queued or refused' },
      );
      expect(view).toMatchObject({ queuedDeliveries: 3, refusedDeliveries: 2 });
      const metrics = (await slots.http.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^tower_slots_webhook_deliveries_refused_total\{type="booking.state-changed"\} 2$/m);
      expect(metrics).toMatch(/^tower_slots_webhook_queue_depth\{state="active"\} 3$/m);

      await eventually(async () => (receiver.received.length >= 3 ? true : undefined), { timeoutMs: 30_000, what: 'the three queued tried' });
      const [attempt] = (await api.call('GET', `/v1/webhooks/${endpoint.id}/deliveries`, testKeys.haiha)).json<{ attempts: { deliveryId: string }[] }>().attempts;
      const replay = await api.call('POST', `/v1/webhooks/${endpoint.id}/deliveries/${attempt?.deliveryId}:replay`, testKeys.haiha);
      expect(replay.statusCode).toBe(409);
      expect(replay.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/webhook-queue-full' });
      expect((await slots.http.inject({ url: '/metrics' })).body).toMatch(/^tower_slots_webhook_deliveries_refused_total\{type="booking.state-changed"\} 3$/m);
    } finally {
      await slots.close();
      await receiver.close();
    }
  });

  test('a lane group’s conditions level crossing a threshold is told once per crossing to each subscribed endpoint, however many slots instances watch', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    const topics = await slotsTopics(createTopic);
    const [one, two] = [await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }), await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics })];
    try {
      const api = apiOf(one);
      const watcher = await api.register(testKeys.haiha, `${receiver.url}/haiha`, ['conditions.threshold-crossed']);
      await api.register(testKeys.donghung, `${receiver.url}/donghung`, ['booking.state-changed', 'window.closed']);
      const write = (levels: { smart: ConditionLevel; manual: ConditionLevel }) => redis.redis.set(gateConditionsKey, JSON.stringify(conditionsView(levels)), 'PX', 60_000);
      // Both instances read each view at once (their rounds run together, as their timers may).
      const bothWatch = () => Promise.all([one.webhooks.conditions.runOnce(), two.webhooks.conditions.runOnce()]);
      for (const slots of [one, two]) slots.webhooks.sender.start();
      // The first view seen tells nothing (no crossing yet): the levels are remembered.
      await write({ smart: 'normal', manual: 'busy' });
      await bothWatch();
      expect([...(await one.webhooks.store.seenLevels()).values()].map((l) => l.level).sort()).toEqual(['busy', 'normal']);
      const crossings = () => on(receiver.received, '/hooks/haiha', 'conditions.threshold-crossed').map((r) => `${r.event.conditions?.laneKind} ${r.event.from}→${r.event.to}`);
      // Each crossing waited for before the next.
      for (const [levels, told] of [
        [{ smart: 'busy', manual: 'busy' }, 1],
        [{ smart: 'congested', manual: 'busy' }, 2],
        [{ smart: 'normal', manual: 'busy' }, 3],
        // A mark, in the same group's order: a repeat of an earlier crossing would have come before it.
        [{ smart: 'busy', manual: 'busy' }, 4],
      ] as const) {
        await write(levels);
        await bothWatch();
        await eventually(async () => (crossings().length >= told ? true : undefined), { timeoutMs: 30_000, what: `crossing ${told}` });
      }
      expect(crossings()).toEqual(['smart normal→busy', 'smart busy→congested', 'smart congested→normal', 'smart normal→busy']);
      const [first] = on(receiver.received, '/hooks/haiha', 'conditions.threshold-crossed');
      expect(first?.event).toMatchObject({ type: 'conditions.threshold-crossed', occurredAt: expect.stringMatching(/\+07:00$/), from: 'normal', to: 'busy', conditions: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', level: 'busy', expectedWaitMinutes: 8 }, thresholds: { busyWaitMinutes: 20 } });
      expect(first && signedWith(watcher.secret, first)).toBe(true);
      expect(receiver.received.filter((r) => r.path === '/hooks/donghung')).toEqual([]);
    } finally {
      await one.close();
      await two.close();
      await receiver.close();
    }
  });

  test('a level that does not hold for WEBHOOKS_CONDITIONS_SETTLE_MS (by the views’ clock) is not told: a queue hovering at a threshold tells nothing until a level lasts', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) }, { webhooks: { ...testWebhookSettings(`webhooks-${Date.now()}`), conditionsSettleMs: 60_000 } });
    try {
      await apiOf(slots).register(testKeys.haiha, `${receiver.url}/haiha`, ['conditions.threshold-crossed']);
      slots.webhooks.sender.start();
      const start = Date.now();
      const crossings = () => on(receiver.received, '/hooks/haiha', 'conditions.threshold-crossed').map((r) => `${r.event.from}→${r.event.to}`);
      // Views a few seconds apart by their own clock (asOf), each read once.
      const read = async (smart: ConditionLevel, atSeconds: number) => {
        await redis.redis.set(gateConditionsKey, JSON.stringify(conditionsView({ smart, manual: 'normal' }, start + atSeconds * 1000)), 'PX', 60_000);
        await slots.webhooks.conditions.runOnce();
      };
      await read('normal', 0);
      await read('busy', 10);
      await read('normal', 20);
      await read('busy', 30);
      await read('busy', 80); // busy for 50 s: not yet
      await read('congested', 85);
      await read('busy', 90); // busy again since 90 s
      await read('busy', 149); // 59 s
      await read('busy', 150); // 60 s: told
      await read('congested', 160);
      await read('congested', 230); // 70 s: told
      await eventually(async () => (crossings().length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'the two lasting crossings' });
      // In one order key: a crossing told too early would have come first.
      expect(crossings()).toEqual(['normal→busy', 'busy→congested']);
      expect(on(receiver.received, '/hooks/haiha', 'conditions.threshold-crossed')[0]?.event.occurredAt).toBe(conditionsView({ smart: 'busy', manual: 'normal' }, start + 150_000).asOfIso);
    } finally {
      await slots.close();
      await receiver.close();
    }
  });
});
