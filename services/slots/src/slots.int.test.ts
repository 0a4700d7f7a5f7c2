import type { Kafka } from 'kafkajs';
import { describe, expect } from 'vitest';
import { EventCodec, createProducer, decodeSlotMessage, selectRows, sql, type SlotBooking, type SlotMessage, type TruckEvent } from '@tower/shared';
import { eventually, eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { migrate } from '../../aggregator/src/test-support.ts';
import { vnTruck } from './domain/test-support.ts';
import { bearer, registerFleet, startSlots, testKeys, type SlotsTopics } from './test-support.ts';

const minute = 60_000;
const windowMs = 30 * minute;

/** Every message of the slots topic, in the order read. */
async function readSlotMessages(kafka: Kafka, topic: string) {
  const messages: SlotMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(decodeSlotMessage(message.value ?? '')) });
  return { messages, stop: () => consumer.disconnect() };
}

/** One sample of the Prometheus text (a metric without labels but the registry's `service`), NaN when absent. */
const sample = (text: string, name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))?.split(' ').at(-1));

const bookingStatesOf = (messages: SlotMessage[], id: string) => messages.flatMap((m) => (m.kind === 'booking' && m.booking.id === id ? [m.booking.state] : []));

async function slotsTopics(createTopic: (o?: { partitions?: number }) => Promise<string>): Promise<SlotsTopics> {
  return { slots: await createTopic({ partitions: 3 }), trucks: await createTopic({ partitions: 3 }), deadLetter: await createTopic({ partitions: 1 }) };
}

describe('slots service on real Redis, Kafka and ClickHouse', () => {
  test('a firm books, replays, confirms and cancels; every rule is a named 4xx; another firm sees nothing of it; every change reaches Kafka and ClickHouse', { timeout: 90_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    await migrate(clickhouse.settings);
    const topics = await slotsTopics(createTopic);
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    await slots.history.start();
    const feed = await readSlotMessages(kafka, topics.slots);
    try {
      const http = slots.http;
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const body = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate: '14C-123.45', cargoClass: 'farm-produce' };
      const hold = (key: string, overrides: object = {}, who = testKeys.haiha) =>
        http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(who), 'idempotency-key': key }, payload: { ...body, ...overrides } });
      await registerFleet(http, testKeys.haiha, ['14C-123.45']);
      await registerFleet(http, testKeys.donghung, ['14C-222.22', ...Array.from({ length: 11 }, (_, i) => `14C-300.${String(i).padStart(2, '0')}`)]);

      const created = await hold('order-0001');
      expect(created.statusCode).toBe(201);
      const booking = created.json<SlotBooking>();
      expect(booking).toMatchObject({ firm: 'haiha-logistics', state: 'held', windowStart, windowEnd: windowStart + windowMs, plate: '14C-123.45' });
      expect(created.headers['location']).toBe(`/v1/bookings/${booking.id}`);

      // A retry with the same key returns the same booking, not a second place.
      const replayed = await hold('order-0001');
      expect(replayed.statusCode).toBe(200);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.json()).toEqual(booking);
      const reused = await hold('order-0001', { plate: '14C-999.99' });
      expect(reused.statusCode).toBe(422);
      expect(reused.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/idempotency-key-reused', errors: [{ field: '/headers/idempotency-key' }] });

      const slotsNow = await http.inject({ method: 'GET', url: `/v1/slots?site=bac-luan-2&laneKind=smart&direction=export&from=${windowStart}&to=${windowStart + windowMs}`, headers: bearer(testKeys.display) });
      expect(slotsNow.statusCode).toBe(200);
      expect(slotsNow.json().windows).toMatchObject([{ laneKind: 'smart', direction: 'export', windowStart, windowEnd: windowStart + windowMs, capacity: 360, held: 1, booked: 0, free: 359, closed: false }]);

      // Another firm: the booking does not exist for it.
      for (const request of [
        { method: 'GET' as const, url: `/v1/bookings/${booking.id}` },
        { method: 'POST' as const, url: `/v1/bookings/${booking.id}/confirm` },
        { method: 'DELETE' as const, url: `/v1/bookings/${booking.id}` },
      ]) {
        const refused = await http.inject({ ...request, headers: bearer(testKeys.donghung) });
        expect(refused.statusCode, `${request.method} ${request.url}`).toBe(404);
        expect(refused.headers['content-type']).toContain('application/problem+json');
      }
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.donghung) })).json().bookings).toEqual([]);
      const foreignList = await http.inject({ method: 'GET', url: '/v1/bookings?firm=haiha-logistics', headers: bearer(testKeys.donghung) });
      expect(foreignList.statusCode).toBe(403);
      expect((await http.inject({ method: 'GET', url: '/v1/firms/haiha-logistics', headers: bearer(testKeys.donghung) })).statusCode).toBe(403);
      const operatorMe = await http.inject({ method: 'GET', url: '/v1/firms/me', headers: bearer(testKeys.operator) });
      expect(operatorMe.statusCode).toBe(400);
      expect(operatorMe.json().errors[0].field).toBe('/params/firm');

      const confirmed = await http.inject({ method: 'POST', url: `/v1/bookings/${booking.id}/confirm`, headers: bearer(testKeys.haiha) });
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json()).toMatchObject({ id: booking.id, state: 'confirmed' });
      const again = await http.inject({ method: 'POST', url: `/v1/bookings/${booking.id}/confirm`, headers: bearer(testKeys.haiha) });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/not-held', rule: 'not-held' });

      const own = await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.haiha) });
      expect(own.json()).toEqual({ bookings: [{ ...booking, state: 'confirmed', updatedAt: expect.any(Number), updatedAtIso: expect.any(String) }], truncated: false });
      const operatorView = await http.inject({ method: 'GET', url: `/v1/bookings?site=bac-luan-2&from=${windowStart}&to=${windowStart + windowMs}`, headers: bearer(testKeys.operator) });
      expect(operatorView.json().bookings.map((b: SlotBooking) => b.id)).toEqual([booking.id]);

      // Rules, each a 4xx naming the field or the rule.
      const problems = [
        [await http.inject({ method: 'POST', url: '/v1/bookings', headers: bearer(testKeys.haiha), payload: body }), 400, '/headers/idempotency-key'],
        [await hold('order-0002', { site: 'nowhere' }), 400, '/body/site'],
        [await hold('order-0003', { laneKind: 'port-gate' }), 400, '/body/laneKind'],
        [await hold('order-0004', { windowStart: windowStart + minute }), 400, '/body/windowStart'],
        [await hold('order-0005', { windowStart: windowStart - 2 * 86_400_000 }), 400, '/body/windowStart'],
        [await hold('order-0006', { plate: 'not a plate' }), 400, '/body/plate'],
        [await hold('order-0012', { windowStart: windowStart + 15 * 86_400_000 }), 400, '/body/windowStart'],
      ] as const;
      for (const [response, status, field] of problems) {
        expect(response.statusCode, field).toBe(status);
        expect(response.json().errors.map((e: { field: string }) => e.field), field).toContain(field);
      }
      expect((await hold('order-0007', {}, testKeys.operator)).statusCode).toBe(403);
      expect((await http.inject({ method: 'POST', url: '/v1/bookings', headers: { 'idempotency-key': 'order-0008' }, payload: body })).statusCode).toBe(401);
      // The same truck at another lane group of the site in that window.
      const samePlate = await hold('order-0009', { laneKind: 'igv' });
      expect(samePlate.statusCode).toBe(409);
      expect(samePlate.json().rule).toBe('plate-already-booked');

      // Operators: capacity down to what is booked, then a closure.
      const window = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart };
      expect((await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.haiha), payload: { ...window, capacity: 1 } })).statusCode).toBe(403);
      const narrowed = await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { ...window, capacity: 1 } });
      expect(narrowed.json()).toMatchObject({ capacity: 1, booked: 1, free: 0 });
      expect((await hold('order-0010', { plate: '14C-222.22' }, testKeys.donghung)).json().rule).toBe('window-full');
      await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { ...window, capacity: 360, closed: true } });
      expect((await hold('order-0011', { plate: '14C-222.22' }, testKeys.donghung)).json().rule).toBe('window-closed');
      await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { ...window, closed: false } });

      // Anti-hoarding: 10 places per firm and window.
      const hoard = [];
      for (let i = 0; i < 10; i += 1) hoard.push(await hold(`hoard-${i}-xyz`, { plate: `14C-300.${String(i).padStart(2, '0')}` }, testKeys.donghung));
      expect(hoard.map((r) => r.statusCode)).toEqual([...Array(10).fill(201)]);
      const capped = await hold('hoard-10-xyz', { plate: '14C-300.10' }, testKeys.donghung);
      expect(capped.json()).toMatchObject({ status: 409, rule: 'firm-cap-reached', cap: 10 });

      // Firms cancel before the cut-off (2 h before the window; this one starts 3 h on); operators any time.
      const cancelled = await http.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: bearer(testKeys.haiha) });
      expect(cancelled.json()).toMatchObject({ state: 'cancelled', cancelledBy: 'firm' });
      const byOperator = await http.inject({ method: 'DELETE', url: `/v1/bookings/${hoard[0]!.json().id}`, headers: bearer(testKeys.operator) });
      expect(byOperator.json()).toMatchObject({ state: 'cancelled', cancelledBy: 'operator' });

      // Kafka has every state of the booking in order, and the window's places with growing versions.
      await eventuallyProgressing({ what: 'three states of the booking on the topic', progress: () => feed.messages.length, until: () => (bookingStatesOf(feed.messages, booking.id).length === 3 ? true : undefined) });
      expect(bookingStatesOf(feed.messages, booking.id)).toEqual(['held', 'confirmed', 'cancelled']);
      const versionsOf = () => feed.messages.flatMap((m) => (m.kind === 'availability' && m.availability.windowStart === windowStart ? [m.availability.version] : []));
      // 11 holds, a confirmation, 4 operator changes (two in one request: published once, at
      // the later version), 2 cancellations: versions 1 to 18, in order, on the window's partition.
      const versions = await eventually(async () => (versionsOf().includes(18) ? versionsOf() : undefined), { what: 'every change of the window’s places on the topic' });
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBeGreaterThanOrEqual(17);
      expect(Math.max(...versions)).toBe(18);
      // …and ClickHouse the same history.
      const history = () => selectRows<{ state: string }>(clickhouse.client, sql`SELECT state FROM slot_bookings FINAL WHERE booking_id = ${booking.id} ORDER BY updated_ms`);
      await eventuallyProgressing({ what: 'the booking history in ClickHouse', progress: async () => (await history()).length, until: (n) => (n === 3 ? true : undefined) });
      const rows = await history();
      expect(rows.map((r) => r.state)).toEqual(['held', 'confirmed', 'cancelled']);
      expect(await slots.store.outboxLength()).toBe(0);

      // /metrics: each booking operation by outcome and refusing rule (requests refused before the store, 401, 403, 404 and
      // invalid bodies, are not bookings), and the store's answer time of every one that reached it.
      const metrics = (await http.inject({ method: 'GET', url: '/metrics' })).body;
      const outcomes = Object.fromEntries(
        [...metrics.matchAll(/^tower_slots_bookings_total\{operation="(\w+)",outcome="(\w+)",rule="([\w-]+)"\} (\d+)$/gm)].map(([, operation, outcome, rule, count]) => [`${operation} ${outcome} ${rule}`, Number(count)]),
      );
      expect(outcomes).toEqual({
        'hold held none': 11,
        'hold replayed none': 1,
        'hold refused idempotency-key-reused': 1,
        'hold refused window-not-aligned': 1,
        'hold refused window-past': 1,
        'hold refused plate-already-booked': 1,
        'hold refused window-full': 1,
        'hold refused window-closed': 1,
        'hold refused firm-cap-reached': 1,
        'confirm confirmed none': 1,
        'confirm refused not-held': 1,
        'cancel cancelled none': 2,
      });
      const answered = (operation: string) => sample(metrics, `tower_slots_booking_duration_seconds_count{operation="${operation}"}`);
      expect([answered('hold'), answered('confirm'), answered('cancel')]).toEqual([19, 2, 2]);
      // The history writer's consumer group reports its lag with the others': 0 once it has stored every change.
      const historyLag = async () => {
        const text = (await http.inject({ method: 'GET', url: '/metrics' })).body;
        const lines = [...text.matchAll(new RegExp(`^tower_consumer_lag_messages\\{group="history-\\w+",topic="${topics.slots}",partition="\\d+"\\} (\\d+)$`, 'gm'))];
        return lines.length > 0 && lines.every(([, lag]) => lag === '0') ? lines.length : undefined;
      };
      expect(await eventually(historyLag, { what: 'the history group’s lag at 0', timeoutMs: 30_000 })).toBeGreaterThan(0);
    } finally {
      await feed.stop();
      await slots.close();
    }
  });

  test('check-in from truck events through Kafka (on time, late), completion at the border line, no-show and hold expiry by the sweeper', { timeout: 90_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = await slotsTopics(createTopic);
    let clock = Date.now();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics, now: () => clock });
    await slots.checkIn.start();
    const feed = await readSlotMessages(kafka, topics.slots);
    const producer = createProducer(kafka);
    await producer.connect();
    const codec = new EventCodec();
    try {
      const http = slots.http;
      const windowStart = Math.ceil((clock + 3 * 3_600_000) / windowMs) * windowMs;
      const book = async (plate: string, key: string, confirm = true) => {
        const held = await http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(testKeys.haiha), 'idempotency-key': key }, payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'electronics' } });
        expect(held.statusCode).toBe(201);
        if (confirm) expect((await http.inject({ method: 'POST', url: `/v1/bookings/${held.json().id}/confirm`, headers: bearer(testKeys.haiha) })).statusCode).toBe(200);
        return held.json<SlotBooking>().id;
      };
      await registerFleet(http, testKeys.haiha, ['14C-401.01', '14C-401.02', '14C-401.03', '14C-401.04', '14C-401.05']);
      const onTime = await book('14C-401.01', 'checkin-on-time');
      const late = await book('14C-401.02', 'checkin-late');
      const otherSite = await book('14C-401.03', 'checkin-other-site');
      const noShow = await book('14C-401.04', 'checkin-no-show');
      const unconfirmed = await book('14C-401.05', 'checkin-unconfirmed', false);

      const truck = (type: 'truck.arrived' | 'truck.border-crossed', plate: string, at: number, site = 'bac-luan-2'): TruckEvent =>
        ({ type, eventId: crypto.randomUUID(), site, observedAt: at, source: 'bl2-anpr-1', plate, plateCountry: 'VN', direction: 'export', ...(type === 'truck.border-crossed' ? { lane: 'bl2-smart-x1' } : {}) }) as TruckEvent;
      await producer.send([
        {
          topic: topics.trucks,
          messages: [
            truck('truck.arrived', '14C-401.01', windowStart - 10 * minute),
            truck('truck.arrived', '14C-401.02', windowStart + windowMs + 45 * minute),
            truck('truck.arrived', '14C-401.03', windowStart, 'van-gia'),
            truck('truck.border-crossed', '14C-401.01', windowStart + 5 * minute),
          ].map((event) => ({ key: event.plate, value: codec.encode('truck', event) })),
        },
      ]);
      const stateOf = async (id: string) => (await http.inject({ method: 'GET', url: `/v1/bookings/${id}`, headers: bearer(testKeys.haiha) })).json<SlotBooking>();
      await eventually(async () => ((await stateOf(onTime)).state === 'completed' ? true : undefined), { what: 'the on-time truck checked in and completed', timeoutMs: 20_000 });
      await eventually(async () => ((await stateOf(late)).state === 'late' ? true : undefined), { what: 'the late truck flagged late' });
      expect(await stateOf(late)).toMatchObject({ arrivedAt: windowStart + windowMs + 45 * minute });
      expect((await stateOf(otherSite)).state).toBe('confirmed');
      await eventuallyProgressing({ what: 'the on-time booking’s states on the topic', progress: () => feed.messages.length, until: () => (bookingStatesOf(feed.messages, onTime).length === 4 ? true : undefined) });
      expect(bookingStatesOf(feed.messages, onTime)).toEqual(['held', 'confirmed', 'checked-in', 'completed']);

      // Time passes: the unconfirmed hold expires (5 min), and once the window, its tolerance
      // and the late grace are over, confirmed bookings with no arrival are no-shows.
      clock += 6 * minute;
      await slots.sweeper.runOnce();
      expect((await stateOf(unconfirmed)).state).toBe('expired');
      clock = windowStart + windowMs + 30 * minute + 120 * minute + 1;
      await slots.sweeper.runOnce();
      expect((await stateOf(noShow)).state).toBe('no-show');
      expect((await stateOf(otherSite)).state).toBe('no-show');
      await eventually(async () => (bookingStatesOf(feed.messages, noShow).at(-1) === 'no-show' && bookingStatesOf(feed.messages, unconfirmed).at(-1) === 'expired' ? true : undefined), { what: 'expiry and no-show on the topic' });
      const record = (await http.inject({ method: 'GET', url: '/v1/firms/me', headers: bearer(testKeys.haiha) })).json();
      expect(record).toMatchObject({ firm: 'haiha-logistics', decided: 4, noShows: 2, noShowRate: 0.5, capPerWindow: 10 });
    } finally {
      await producer.disconnect();
      await feed.stop();
      await slots.close();
    }
  });

  test('a site being built (Vạn Ninh) takes no bookings: hold, places and window changes refused naming the site; nothing stored or published; Vạn Gia’s port gates book as before', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = await slotsTopics(createTopic);
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    const feed = await readSlotMessages(kafka, topics.slots);
    try {
      const http = slots.http;
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const body = { site: 'van-ninh', laneKind: 'port-gate', direction: 'import', windowStart, plate: '14C-777.01', cargoClass: 'machinery' };
      await registerFleet(http, testKeys.haiha, [body.plate]);
      const refusals = [
        [await http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(testKeys.haiha), 'idempotency-key': 'van-ninh-0001' }, payload: body }), '/body/site'],
        [await http.inject({ method: 'GET', url: `/v1/slots?site=van-ninh&from=${windowStart}`, headers: bearer(testKeys.haiha) }), '/querystring/site'],
        [await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { site: 'van-ninh', laneKind: 'port-gate', direction: 'import', windowStart, capacity: 10 } }), '/body/site'],
      ] as const;
      for (const [response, field] of refusals) {
        expect(response.statusCode, field).toBe(409);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json(), field).toMatchObject({
          type: 'https://mongcai-tower.dev/problems/site-under-construction',
          rule: 'site-under-construction',
          site: 'van-ninh',
          errors: [{ field, reason: expect.stringContaining('under construction (no opening date known)') }],
        });
      }
      expect(await slots.store.outboxLength()).toBe(0);
      expect((await http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(testKeys.haiha) })).json().bookings).toEqual([]);

      // The other seaport, operating, books: the messages that follow are Vạn Gia's only.
      const vanGia = await http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(testKeys.haiha), 'idempotency-key': 'van-gia-0001' }, payload: { ...body, site: 'van-gia' } });
      expect(vanGia.statusCode, vanGia.body).toBe(201);
      await eventually(async () => (feed.messages.some((m) => m.kind === 'booking' && m.booking.site === 'van-gia') ? true : undefined), { what: 'the Vạn Gia booking on the topic' });
      expect(feed.messages.filter((m) => (m.kind === 'booking' ? m.booking.site : m.availability.site) === 'van-ninh')).toEqual([]);
    } finally {
      await feed.stop();
      await slots.close();
    }
  });

  test('a change Kafka did not get stays in the outbox, its age is measured, and the relay publishes it', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = await slotsTopics(createTopic);
    let clock = Date.now();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics, now: () => clock }, { outboxGraceMs: 0 });
    const outboxAge = async () => sample((await slots.http.inject({ method: 'GET', url: '/metrics' })).body, 'tower_slots_outbox_oldest_age_seconds');
    const feed = await readSlotMessages(kafka, topics.slots);
    try {
      const windowStart = Math.ceil((Date.now() + 3_600_000) / windowMs) * windowMs;
      // Straight into the store, as if the instance died before publishing.
      await slots.store.registerTruck('haiha-logistics', vnTruck('14C-555.55'), Date.now());
      const held = await slots.store.hold({ site: 'van-gia', laneKind: 'port-gate', direction: 'import', windowStart, firm: 'haiha-logistics', plate: '14C-555.55', cargoClass: 'machinery', idempotencyKey: 'crashed-before-publish', at: Date.now() });
      if (!held.ok) throw new Error(held.refusal);
      expect(await slots.store.outboxLength()).toBe(1);
      // The scrape 90 s later sees the entry's age (the clock of Redis made its id).
      clock = Date.now() + 90_000;
      expect(await outboxAge()).toBeGreaterThanOrEqual(85);
      expect(await outboxAge()).toBeLessThan(120);
      await slots.relay.runOnce();
      await eventually(async () => (bookingStatesOf(feed.messages, held.booking.id).length > 0 ? true : undefined), { what: 'the relayed booking' });
      const places = await eventually(async () => feed.messages.find((m) => m.kind === 'availability' && m.availability.site === 'van-gia'), { what: 'the relayed places' });
      expect(places).toMatchObject({ availability: { held: 1, version: 1 } });
      expect(await slots.store.outboxLength()).toBe(0);
      expect(await outboxAge()).toBe(0);
    } finally {
      await feed.stop();
      await slots.close();
    }
  });

  test('a key over its rate of requests gets 429 with Retry-After; other keys are not held back', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = await slotsTopics(createTopic);
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const list = (key: string) => slots.http.inject({ method: 'GET', url: '/v1/bookings', headers: bearer(key) });
      for (let i = 0; i < 3; i += 1) expect((await list(testKeys.haiha)).statusCode).toBe(200);
      const limited = await list(testKeys.haiha);
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/rate-limited', detail: expect.stringContaining('haiha-key') });
      expect((await list(testKeys.donghung)).statusCode).toBe(200);
    } finally {
      await slots.close();
    }
  });
});
