import { describe, expect } from 'vitest';
import { vietnamIso, type SlotBookingView } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { vnTruck } from './domain/test-support.ts';
import { bearer, registerFleet, startSlots, testKeys } from './test-support.ts';

const minute = 60_000;
const windowMs = 30 * minute;
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+07:00$/;

describe('the slots API as a dispatcher reads it (issue 18)', () => {
  test('times in Vietnam time both ways: ISO 8601 windows in requests, an ISO twin of every time in answers; a time off a window boundary or without an offset is refused naming the field', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 3 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    try {
      const http = slots.http;
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const windowIso = vietnamIso(windowStart);
      const body = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', plate: '14C-180.18', cargoClass: 'farm-produce' };
      const hold = (key: string, windowStartGiven: number | string, who = testKeys.haiha) =>
        http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(who), 'idempotency-key': key }, payload: { ...body, windowStart: windowStartGiven } });
      await registerFleet(http, testKeys.haiha, [body.plate]);

      // The window given as ISO 8601 in Vietnam time is the same window as its ms.
      const created = await hold('iso-order-0001', windowIso);
      expect(created.statusCode, created.body).toBe(201);
      const booking = created.json<SlotBookingView>();
      expect(booking).toMatchObject({ windowStart, windowEnd: windowStart + windowMs, windowStartIso: windowIso, windowEndIso: vietnamIso(windowStart + windowMs), arrivedAtIso: null });
      for (const field of ['windowStart', 'windowEnd', 'heldUntil', 'createdAt', 'updatedAt'] as const) {
        expect(booking[`${field}Iso`], field).toMatch(isoTime);
        expect(Date.parse(booking[`${field}Iso`]), field).toBe(booking[field]);
      }
      // In UTC, in another zone or as ms: the same window, so the same key replays the booking.
      const utc = new Date(windowStart).toISOString().replace('.000Z', 'Z');
      for (const given of [windowStart, utc, `${new Date(windowStart + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`]) {
        const replayed = await hold('iso-order-0001', given);
        expect(replayed.statusCode, String(given)).toBe(200);
        expect(replayed.json()).toEqual(booking);
      }

      // Off a boundary: 400 naming the field, with the nearest boundaries in Vietnam time.
      const off = await hold('iso-order-0002', vietnamIso(windowStart + 10 * minute));
      expect(off.statusCode).toBe(400);
      expect(off.json().errors).toEqual([{ field: '/body/windowStart', reason: expect.stringContaining(`nearest are ${windowIso} (${windowStart}) and ${vietnamIso(windowStart + windowMs)}`) }]);
      // Without an offset, or a date not in the calendar: 400 naming the field.
      const local = await hold('iso-order-0003', windowIso.replace('+07:00', ''));
      expect(local.statusCode).toBe(400);
      expect(local.json().errors).toEqual([{ field: '/body/windowStart', reason: expect.stringContaining('has no offset: add +07:00 for Vietnam time') }]);
      const feb30 = await hold('iso-order-0004', '2027-02-30T10:00:00+07:00');
      expect(feb30.statusCode).toBe(400);
      expect(feb30.json().errors).toEqual([{ field: '/body/windowStart', reason: expect.stringContaining('not a date and time of the calendar') }]);

      // Every answer about the booking carries the twins: one, the list (from/to given as ISO), confirm, cancel.
      const one = await http.inject({ method: 'GET', url: `/v1/bookings/${booking.id}`, headers: bearer(testKeys.haiha) });
      expect(one.json()).toEqual(booking);
      const from = encodeURIComponent(vietnamIso(windowStart - windowMs));
      const listed = await http.inject({ method: 'GET', url: `/v1/bookings?from=${from}&to=${encodeURIComponent(vietnamIso(windowStart + windowMs))}`, headers: bearer(testKeys.haiha) });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json().bookings).toEqual([booking]);
      const noOffset = await http.inject({ method: 'GET', url: `/v1/bookings?from=${windowIso.slice(0, 19)}`, headers: bearer(testKeys.haiha) });
      expect(noOffset.statusCode).toBe(400);
      expect(noOffset.json().errors).toEqual([{ field: '/querystring/from', reason: expect.stringContaining('has no offset') }]);
      // The offset's + left unencoded in a query string arrives as a space: said so.
      const unencoded = await http.inject({ method: 'GET', url: `/v1/slots?site=bac-luan-2&from=${windowIso}`, headers: bearer(testKeys.haiha) });
      expect(unencoded.statusCode).toBe(400);
      expect(unencoded.json().errors).toEqual([{ field: '/querystring/from', reason: expect.stringContaining('send + as %2B') }]);
      const confirmed = await http.inject({ method: 'POST', url: `/v1/bookings/${booking.id}/confirm`, headers: bearer(testKeys.haiha) });
      expect(confirmed.json()).toMatchObject({ state: 'confirmed', windowStartIso: windowIso, updatedAtIso: vietnamIso(confirmed.json().updatedAt) });
      const cancelled = await http.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: bearer(testKeys.haiha) });
      expect(cancelled.json()).toMatchObject({ state: 'cancelled', windowStartIso: windowIso, updatedAtIso: vietnamIso(cancelled.json().updatedAt) });
    } finally {
      await slots.close();
    }
  });

  test('availability names the site and each lane group in vi, en and zh from the catalog, labels each window in Vietnam time and says why a window is closed', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 3 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    try {
      const http = slots.http;
      // 21:00 Vietnam time (14:00 UTC) two days on: its label and names are known in advance.
      const day = Math.floor((Date.now() + 2 * 86_400_000) / 86_400_000) * 86_400_000;
      const nine = day + 14 * 3_600_000;
      const closing = await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: vietnamIso(nine + windowMs), closed: true } });
      expect(closing.statusCode, closing.body).toBe(200);
      expect(closing.json()).toMatchObject({ windowStart: nine + windowMs, closed: true, closedReason: 'closed-by-operator', label: '21:30–22:00' });
      const emptied = await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: nine + 2 * windowMs, capacity: 0 } });
      expect(emptied.statusCode, emptied.body).toBe(200);

      const from = encodeURIComponent(vietnamIso(nine));
      const answer = await http.inject({ method: 'GET', url: `/v1/slots?site=bac-luan-2&laneKind=smart&direction=export&from=${from}&to=${nine + 3 * windowMs}`, headers: bearer(testKeys.haiha) });
      expect(answer.statusCode, answer.body).toBe(200);
      const siteNames = { vi: 'Cầu Bắc Luân II – Khu logistics Bắc Luân II', en: 'Bắc Luân II bridge and logistics park', zh: '北仑河二桥及物流园区' };
      const laneGroupNames = { vi: 'Làn chuyên dụng thông minh xuất khẩu', en: 'Smart dedicated lane, export', zh: '出口智能专用通道' };
      expect(answer.json()).toMatchObject({ site: 'bac-luan-2', siteNames, from: nine, fromIso: vietnamIso(nine), toIso: vietnamIso(nine + 3 * windowMs) });
      const common = { laneKind: 'smart', direction: 'export', siteNames, laneGroupNames, date: vietnamIso(nine).slice(0, 10) };
      expect(answer.json().windows).toEqual([
        { ...common, windowStart: nine, windowEnd: nine + windowMs, windowStartIso: vietnamIso(nine), windowEndIso: vietnamIso(nine + windowMs), label: '21:00–21:30', capacity: 360, held: 0, booked: 0, free: 360, closed: false, closedReason: null },
        { ...common, windowStart: nine + windowMs, windowEnd: nine + 2 * windowMs, windowStartIso: vietnamIso(nine + windowMs), windowEndIso: vietnamIso(nine + 2 * windowMs), label: '21:30–22:00', capacity: 360, held: 0, booked: 0, free: 0, closed: true, closedReason: 'closed-by-operator' },
        { ...common, windowStart: nine + 2 * windowMs, windowEnd: nine + 3 * windowMs, windowStartIso: vietnamIso(nine + 2 * windowMs), windowEndIso: vietnamIso(nine + 3 * windowMs), label: '22:00–22:30', capacity: 0, held: 0, booked: 0, free: 0, closed: true, closedReason: 'no-capacity' },
      ]);
      // Both lane groups of a direction-less query carry their own names.
      const all = await http.inject({ method: 'GET', url: `/v1/slots?site=bac-luan-2&from=${nine}&to=${nine + windowMs}`, headers: bearer(testKeys.display) });
      const names = new Map(all.json().windows.map((w: { laneKind: string; direction: string; laneGroupNames: { en: string } }) => [`${w.laneKind} ${w.direction}`, w.laneGroupNames.en]));
      expect(names.get('igv import')).toBe('IGV autonomous vehicle lane, import');
      expect(names.get('smart import')).toBe('Smart dedicated lane, import');
    } finally {
      await slots.close();
    }
  });

  test('POST /v1/bookings:batch holds each item on its own with a result per item in order (201, 200 replayed, 409, 400, 422), counts N against the rate, and a second firm’s batch neither touches nor learns of the first’s bookings', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 3 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    // The clock stands still: the rate budget (a burst of 20, no refill) is spent only by the requests here.
    const clock = Date.now();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics, now: () => clock }, { maxBatchItems: 5, rateLimit: { perSecond: 1, burst: 20 } });
    try {
      const http = slots.http;
      const windowStart = Math.ceil((clock + 3 * 3_600_000) / windowMs) * windowMs;
      const item = (key: string, plate: string, overrides: object = {}) => ({ idempotencyKey: key, site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: vietnamIso(windowStart), plate, cargoClass: 'farm-produce', ...overrides });
      const batch = (items: object[], who = testKeys.haiha) => http.inject({ method: 'POST', url: '/v1/bookings:batch', headers: bearer(who), payload: { items } });
      const statuses = (answer: { json(): { results: { status: number }[] } }) => answer.json().results.map((r) => r.status);
      // The fleets straight into the store: the key's budget (20, the clock stopped) is counted below.
      const fleets = { 'haiha-logistics': ['14C-200.01', '14C-200.02', '14C-200.03', '14C-200.04', '14C-200.05', '14C-501.01', '14C-501.02', '14C-501.03', '14C-501.04', '14C-501.05'], 'donghung-trade': ['14C-300.01', '14C-300.04'] };
      for (const [firm, plates] of Object.entries(fleets)) for (const plate of plates) await slots.store.registerTruck(firm, vnTruck(plate), clock);

      // One closed window makes one item a 409.
      const closed = windowStart + windowMs;
      expect((await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: closed, closed: true } })).statusCode).toBe(200);
      const first = await batch([item('batch-a-0001', '14C-200.01'), item('batch-a-0002', '14C-200.02', { windowStart: closed }), item('batch-a-0003', '14C-200.03', { windowStart: windowStart + 7 * minute }), item('batch-a-0004', '14C-200.04')]);
      expect(first.statusCode, first.body).toBe(200);
      const results = first.json().results;
      expect(statuses(first)).toEqual([201, 409, 400, 201]);
      expect(results.map((r: { index: number; idempotencyKey: string }) => [r.index, r.idempotencyKey])).toEqual([[0, 'batch-a-0001'], [1, 'batch-a-0002'], [2, 'batch-a-0003'], [3, 'batch-a-0004']]);
      expect(results[0].booking).toMatchObject({ firm: 'haiha-logistics', plate: '14C-200.01', state: 'held', windowStart, windowStartIso: vietnamIso(windowStart) });
      expect(results[1].problem).toMatchObject({ type: 'https://mongcai-tower.dev/problems/window-closed', rule: 'window-closed', status: 409 });
      expect(results[2].problem).toMatchObject({ status: 400, errors: [{ field: '/body/items/2/windowStart', reason: expect.stringContaining('the nearest are') }] });
      expect(results[2].booking).toBeUndefined();

      // Again: the held ones replay (200, the same bookings); a key reused for another truck is 422 naming the item's key; a new one holds.
      const again = await batch([item('batch-a-0001', '14C-200.01'), item('batch-a-0004', '14C-299.99'), item('batch-a-0005', '14C-200.05'), item('batch-a-0005', '14C-200.05')]);
      expect(statuses(again)).toEqual([200, 422, 201, 200]);
      expect(again.json().results[0].booking).toEqual(results[0].booking);
      expect(again.json().results[1].problem).toMatchObject({ type: 'https://mongcai-tower.dev/problems/idempotency-key-reused', errors: [{ field: '/body/items/1/idempotencyKey' }] });
      expect(again.json().results[3].booking).toEqual(again.json().results[2].booking);
      const own = (await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.haiha) })).json().bookings;
      expect(own.map((b: { plate: string }) => b.plate).sort()).toEqual(['14C-200.01', '14C-200.04', '14C-200.05']);

      // The envelope wrong: 400 and nothing held (more items than the setting, none, an item without its key).
      for (const items of [Array.from({ length: 6 }, (_, i) => item(`batch-b-000${i}`, `14C-201.0${i}`)), [], [{ ...item('batch-b-0100', '14C-201.10'), idempotencyKey: undefined }]]) {
        const refused = await batch(items);
        expect(refused.statusCode).toBe(400);
        expect(refused.headers['content-type']).toContain('application/problem+json');
      }
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.haiha) })).json().bookings).toHaveLength(3);

      // Another firm with the same keys: bookings of its own, never the first firm's, and its list shows only those.
      const other = await batch([item('batch-a-0001', '14C-300.01'), item('batch-a-0004', '14C-300.04')], testKeys.donghung);
      expect(statuses(other)).toEqual([201, 201]);
      const ids = new Set(own.map((b: { id: string }) => b.id));
      for (const result of other.json().results) {
        expect(result.booking.firm).toBe('donghung-trade');
        expect(ids.has(result.booking.id)).toBe(false);
      }
      expect(JSON.stringify(other.json())).not.toContain('haiha');
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.donghung) })).json().bookings.map((b: { plate: string }) => b.plate).sort()).toEqual(['14C-300.01', '14C-300.04']);
      // Display and operator tokens hold nothing: each item 403.
      expect(statuses(await batch([item('batch-d-0001', '14C-400.01')], testKeys.display))).toEqual([403]);

      // A batch of N counts N against the key's rate: 13 of the first firm's 20 are spent (4 + 4 items, 5 other requests); a batch of 5 leaves 2, so the next batch of 5 is 429 with Retry-After and holds nothing.
      const five = (round: number) => batch([1, 2, 3, 4, 5].map((i) => item(`batch-r-${round}-000${i}`, `14C-50${round}.0${i}`)));
      expect(statuses(await five(1))).toEqual([201, 201, 201, 201, 201]);
      const limited = await five(2);
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.haiha) })).json().bookings).toHaveLength(8);
      // The other firm's budget is its own.
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.donghung) })).statusCode).toBe(200);
    } finally {
      await slots.close();
    }
  });
});
