import { createHmac } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { SlotBooking } from '@tower/shared';
import { eventually, test } from '@tower/shared/testing';
import { bearer, startSlots, testKeys, testWebhookSettings } from '../test-support.ts';
import { ownTruck, slotsTopics, startReceiver, type Received } from './test-support.ts';

const windowMs = 30 * 60_000;

/** The states delivered with a 2xx for one booking, in the order they arrived. */
const deliveredStates = (received: Received[], bookingId: string) => received.filter((r) => r.answered >= 200 && r.answered < 300 && r.event.booking.id === bookingId).map((r) => r.event.booking.state);

describe('webhooks on real Redis and Kafka, to a real receiver', () => {
  test('registration: firm keys only, URLs checked, a limit per firm, the secret once, and another firm sees none of it on any route', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) });
    try {
      const api = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object) => slots.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
      const register = (url: string, key = testKeys.haiha) => api('POST', '/v1/webhooks', key, { url, events: ['booking.state-changed'] });

      const operator = await register('http://127.0.0.1:27510/hooks', testKeys.operator);
      expect(operator.statusCode).toBe(403);
      expect(operator.headers['content-type']).toContain('application/problem+json');
      for (const [url, reason] of [
        ['https://10.0.0.7/hooks', /not a public address/],
        ['http://tms.example.com/hooks', /must be https/],
        ['https://metadata.internal/', /not a public host name/],
        ['not a url', /not an absolute URL/],
      ] as const) {
        const refused = await register(url);
        expect(refused.statusCode, url).toBe(400);
        expect(refused.json(), url).toMatchObject({ type: 'https://mongcai-tower.dev/problems/validation', errors: [{ field: '/body/url', reason: expect.stringMatching(reason) }] });
      }
      const badEvent = await api('POST', '/v1/webhooks', testKeys.haiha, { url: 'https://tms.example.com/hooks', events: ['window.opened'] });
      expect(badEvent.statusCode).toBe(400);
      expect(badEvent.json().errors[0].field).toMatch(/^\/body\/events/);

      const created = await register('https://tms.example.com/hooks');
      expect(created.statusCode).toBe(201);
      const endpoint = created.json<{ id: string; secret: string; state: string; createdAtIso: string }>();
      expect(endpoint).toMatchObject({ url: 'https://tms.example.com/hooks', events: ['booking.state-changed'], state: 'active', consecutiveFailures: 0 });
      expect(endpoint.secret).toMatch(/^whsec_/);
      expect(endpoint.createdAtIso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+07:00$/);
      expect(created.headers['location']).toBe(`/v1/webhooks/${endpoint.id}`);
      // The secret is never shown again.
      const listed = await api('GET', '/v1/webhooks', testKeys.haiha);
      expect(listed.json().webhooks.map((w: { id: string }) => w.id)).toEqual([endpoint.id]);
      expect(listed.body).not.toContain(endpoint.secret);
      expect((await api('GET', `/v1/webhooks/${endpoint.id}`, testKeys.haiha)).body).not.toContain('whsec_');

      // The limit per firm (3 in tests), and the other firm's own count is its own.
      expect((await register('https://tms.example.com/b')).statusCode).toBe(201);
      expect((await register('https://tms.example.com/c')).statusCode).toBe(201);
      const over = await register('https://tms.example.com/d');
      expect(over.statusCode).toBe(409);
      expect(over.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/webhook-limit-reached', limit: 3, errors: [{ field: '/body' }] });
      expect((await register('https://tms.example.com/theirs', testKeys.donghung)).statusCode).toBe(201);

      // Another firm: the endpoint does not exist, on every route; its list has only its own.
      const delivery = 'dl_000000000000000000000000';
      for (const [method, url] of [
        ['GET', `/v1/webhooks/${endpoint.id}`],
        ['DELETE', `/v1/webhooks/${endpoint.id}`],
        ['POST', `/v1/webhooks/${endpoint.id}:resume`],
        ['GET', `/v1/webhooks/${endpoint.id}/deliveries`],
        ['POST', `/v1/webhooks/${endpoint.id}/deliveries/${delivery}:replay`],
      ] as const) {
        const probe = await api(method, url, testKeys.donghung);
        expect(probe.statusCode, `${method} ${url}`).toBe(404);
        expect(probe.headers['content-type'], `${method} ${url}`).toContain('application/problem+json');
        expect(probe.body).not.toContain('haiha');
      }
      const theirs = await api('GET', '/v1/webhooks', testKeys.donghung);
      expect(theirs.json().webhooks.map((w: { url: string }) => w.url)).toEqual(['https://tms.example.com/theirs']);
      // A display or operator token reads none of it either.
      expect((await api('GET', '/v1/webhooks', testKeys.display)).statusCode).toBe(403);

      // The owner deletes it: gone for it too.
      expect((await api('DELETE', `/v1/webhooks/${endpoint.id}`, testKeys.haiha)).statusCode).toBe(204);
      expect((await api('GET', `/v1/webhooks/${endpoint.id}`, testKeys.haiha)).statusCode).toBe(404);
      expect((await register('https://tms.example.com/d')).statusCode).toBe(201);
    } finally {
      await slots.close();
    }
  });

  test('deliveries are signed, reach a receiver that fails then recovers in order per booking, show in the log, replay, pause and resume', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const receiver = await startReceiver();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) }, { webhooks: { ...testWebhookSettings(`webhooks-${Date.now()}`), pauseAfter: 15 } });
    try {
      const api = (method: 'GET' | 'POST' | 'DELETE', url: string, key = testKeys.haiha, payload?: object, headers: Record<string, string> = {}) =>
        slots.http.inject({ method, url, headers: { ...bearer(key), ...headers }, ...(payload ? { payload } : {}) });
      for (const part of slots.webhooks.parts) await part.start();
      await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
      const endpoint = (await api('POST', '/v1/webhooks', testKeys.haiha, { url: receiver.url, events: ['booking.state-changed'] })).json<{ id: string; secret: string }>();
      // The other firm's endpoint on the same receiver: it must get nothing of the first firm's bookings.
      expect((await api('POST', '/v1/webhooks', testKeys.donghung, { url: `${receiver.url}?firm=donghung`, events: ['booking.state-changed'] })).statusCode).toBe(201);

      // The receiver is down (500 with a long body) until told otherwise.
      receiver.answerWith(() => 500);
      const windowStart = Math.ceil((Date.now() + 4 * 3_600_000) / windowMs) * windowMs;
      const hold = async (key: string, plate: string) => {
        await ownTruck(slots.http, testKeys.haiha, plate);
        const response = await api('POST', '/v1/bookings', testKeys.haiha, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'farm-produce' }, { 'idempotency-key': key });
        expect(response.statusCode, response.body).toBe(201);
        return response.json<SlotBooking>().id;
      };
      const first = await hold(`wh-a-${Date.now()}`, '14C-201.01');
      expect((await api('POST', `/v1/bookings/${first}/confirm`)).statusCode).toBe(200);
      expect((await api('DELETE', `/v1/bookings/${first}`)).statusCode).toBe(200);
      const second = await hold(`wh-b-${Date.now()}`, '14C-201.02');
      expect((await api('POST', `/v1/bookings/${second}/confirm`)).statusCode).toBe(200);

      // Failed attempts are retried (the queue head only: each booking's first change) and logged.
      await eventually(async () => (receiver.received.filter((r) => r.event.booking.id === first).length >= 3 ? true : undefined), { timeoutMs: 30_000, what: 'three failed attempts' });
      const failing = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json<{ attempts: { outcome: string; statusCode: number | null; attempt: number; durationMs: number; atIso: string }[] }>().attempts;
      expect(failing.length).toBeGreaterThanOrEqual(3);
      expect(failing.every((a) => a.outcome === 'retrying' && a.statusCode === 500)).toBe(true);
      expect(Math.max(...failing.map((a) => a.attempt))).toBeGreaterThanOrEqual(2);
      expect(failing[0]?.atIso).toMatch(/\+07:00$/);
      expect(receiver.received.filter((r) => r.event.booking.id === first).every((r) => r.event.booking.state === 'held')).toBe(true);

      // Recovered: every change arrives, in order per booking.
      receiver.answerWith(() => 200);
      await eventually(async () => (deliveredStates(receiver.received, first).length >= 3 && deliveredStates(receiver.received, second).length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'every change delivered' });
      expect(deliveredStates(receiver.received, first)).toEqual(['held', 'confirmed', 'cancelled']);
      expect(deliveredStates(receiver.received, second)).toEqual(['held', 'confirmed']);
      expect(receiver.received.filter((r) => r.path !== '/hooks')).toEqual([]);

      // Each request is signed as documented, its id is the event's, occurredAt is Vietnam time.
      for (const r of receiver.received) {
        const timestamp = String(r.headers['tower-webhook-timestamp']);
        expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
        expect(r.headers['tower-webhook-signature']).toBe(`v1=${createHmac('sha256', endpoint.secret).update(`${timestamp}.${r.body}`).digest('hex')}`);
        expect(r.headers['tower-webhook-id']).toBe(r.event.id);
        expect(r.event).toMatchObject({ type: 'booking.state-changed', occurredAt: expect.stringMatching(/\+07:00$/), booking: { firm: 'haiha-logistics', windowStartIso: expect.stringMatching(/\+07:00$/) } });
      }
      const ids = receiver.received.filter((r) => r.answered === 200).map((r) => r.event.id);
      expect(new Set(ids).size).toBe(ids.length);

      // The log: the last attempts, newest first, the delivered ones with their status.
      const log = (await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).json<{ attempts: { deliveryId: string; eventId: string; outcome: string; statusCode: number }[] }>().attempts;
      expect(log.filter((a) => a.outcome === 'delivered')).toHaveLength(5);
      const confirmedEvent = receiver.received.find((r) => r.answered === 200 && r.event.booking.id === first && r.event.booking.state === 'confirmed');
      const confirmedDelivery = log.find((a) => a.outcome === 'delivered' && a.eventId === confirmedEvent?.event.id);
      expect(confirmedDelivery).toBeDefined();

      // Replay: the same event again, signed anew.
      const replay = await api('POST', `/v1/webhooks/${endpoint.id}/deliveries/${confirmedDelivery?.deliveryId}:replay`);
      expect(replay.statusCode).toBe(202);
      expect(replay.json().eventId).toBe(confirmedEvent?.event.id);
      await eventually(async () => (receiver.received.filter((r) => r.event.id === confirmedEvent?.event.id && r.answered === 200).length === 2 ? true : undefined), { timeoutMs: 30_000, what: 'the replay' });

      // Failing in a row past the threshold pauses the endpoint; nothing more is sent until resumed.
      receiver.answerWith(() => 503);
      const third = await hold(`wh-c-${Date.now()}`, '14C-201.03');
      const paused = await eventually(
        async () => {
          const view = (await api('GET', `/v1/webhooks/${endpoint.id}`)).json<{ state: string; pausedReason: string | null; pausedAtIso: string | null }>();
          return view.state === 'paused' ? view : undefined;
        },
        { timeoutMs: 60_000, what: 'the endpoint paused' },
      );
      expect(paused.pausedReason).toMatch(/15 deliveries in a row failed; the last: HTTP 503/);
      expect(paused.pausedAtIso).toMatch(/\+07:00$/);
      const whilePaused = receiver.received.length;
      expect((await api('POST', `/v1/bookings/${third}/confirm`)).statusCode).toBe(200);
      expect((await api('GET', `/v1/webhooks/${endpoint.id}`)).json().state).toBe('paused');
      expect(receiver.received.length).toBe(whilePaused);
      receiver.answerWith(() => 200);
      // Resumed: the queued changes go, in order.
      const resumed = await api('POST', `/v1/webhooks/${endpoint.id}:resume`);
      expect(resumed.json()).toMatchObject({ state: 'active', pausedReason: null, consecutiveFailures: 0 });
      await eventually(async () => (deliveredStates(receiver.received, third).length >= 2 ? true : undefined), { timeoutMs: 30_000, what: 'the changes queued while paused' });
      expect(deliveredStates(receiver.received, third)).toEqual(['held', 'confirmed']);
    } finally {
      await slots.close();
      await receiver.close();
    }
  });

  test('a firm whose receiver hangs does not hold up another firm’s deliveries: sends per firm are limited', { timeout: 120_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const slow = await startReceiver();
    const fast = await startReceiver();
    slow.answerWith(() => 'hang');
    const settings = { ...testWebhookSettings(`webhooks-${Date.now()}`), concurrency: 5, perFirmConcurrency: 4, timeoutMs: 30_000 };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: await slotsTopics(createTopic) }, { webhooks: settings });
    try {
      const api = (url: string, key: string, payload: object, headers: Record<string, string> = {}) => slots.http.inject({ method: 'POST', url, headers: { ...bearer(key), ...headers }, payload });
      for (const part of slots.webhooks.parts) await part.start();
      await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
      expect((await api('/v1/webhooks', testKeys.haiha, { url: slow.url, events: ['booking.state-changed'] })).statusCode).toBe(201);
      expect((await api('/v1/webhooks', testKeys.donghung, { url: fast.url, events: ['booking.state-changed'] })).statusCode).toBe(201);
      const windowStart = Math.ceil((Date.now() + 5 * 3_600_000) / windowMs) * windowMs;
      const hold = async (key: string, plate: string, start = windowStart) => {
        await ownTruck(slots.http, key, plate);
        const response = await api('/v1/bookings', key, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: start, plate, cargoClass: 'farm-produce' }, { 'idempotency-key': `${plate}-${Date.now()}` });
        expect(response.statusCode, response.body).toBe(201);
        return response.json<SlotBooking>().id;
      };
      // 120 bookings of the first firm (10 a window, its cap): 120 queues due before the other firm's, of which four are sent at once and hang.
      for (let i = 0; i < 120; i += 1) await hold(testKeys.haiha, `14C-${400 + i}.01`, windowStart + Math.floor(i / 10) * windowMs);
      await eventually(async () => (slow.received.length === 4 ? true : undefined), { timeoutMs: 30_000, what: 'four sends to the hanging receiver' });
      // The other firm's change goes at once, past the first firm's hung sends, none of which has ended.
      const theirs = await hold(testKeys.donghung, '14C-301.09');
      await eventually(async () => (fast.received.some((r) => r.event.booking.id === theirs) ? true : undefined), { timeoutMs: 60_000, what: 'the other firm’s delivery' });
      expect(slow.received).toHaveLength(4);
    } finally {
      await slow.close();
      await fast.close();
      await slots.close();
    }
  });
});
