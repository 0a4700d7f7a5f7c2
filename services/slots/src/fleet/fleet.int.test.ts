import { describe, expect } from 'vitest';
import { vietnamIso } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { defaultLedgerRules, truckOf } from '../domain/ledger.ts';
import { bearer, registerFleet, startSlots, testKeys } from '../test-support.ts';

const windowMs = 30 * 60_000;
const problem = (rule: string) => `https://mongcai-tower.dev/problems/${rule}`;

describe('fleets on the slots API (real Redis and Kafka)', () => {
  test('a firm registers, lists and removes its own trucks and books only them; refusals name no other firm and no booking; operators list and transfer', { timeout: 90_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 1 }), trucks: await createTopic({ partitions: 1 }), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { rules: { ...defaultLedgerRules, maxFleetTrucks: 4, registrationRefusalsPerHour: 1000 } });
    try {
      const { http } = slots;
      const call = (method: 'GET' | 'POST' | 'DELETE', url: string, key: string, payload?: object, headers: Record<string, string> = {}) =>
        http.inject({ method, url, headers: { ...bearer(key), ...headers }, ...(payload ? { payload } : {}) });
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / windowMs) * windowMs;
      const hold = (key: string, plate: string, idempotencyKey: string, start = windowStart) =>
        call('POST', '/v1/bookings', key, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: start, plate, cargoClass: 'farm-produce' }, { 'idempotency-key': idempotencyKey });

      const created = await call('POST', '/v1/fleet/trucks', testKeys.haiha, { plate: '14C-123.45', country: 'VN', trailerPlate: '14R-012.34', driverName: 'Nguyễn Văn An', driverPhone: '+84 912 345 678' });
      expect(created.statusCode).toBe(201);
      const truck = created.json();
      expect(truck).toMatchObject({ plate: '14C-123.45', plateKey: '14C12345', country: 'VN', trailerPlate: '14R-012.34', driverName: 'Nguyễn Văn An', driverPhone: '+84 912 345 678' });
      expect(truck.registeredAtIso).toBe(vietnamIso(truck.registeredAt));
      // Again, written without separators: the same truck, 200, registeredAt kept, details as now given.
      const again = await call('POST', '/v1/fleet/trucks', testKeys.haiha, { plate: '14C12345', country: 'VN' });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ plate: '14C12345', plateKey: '14C12345', country: 'VN', registeredAt: truck.registeredAt, registeredAtIso: truck.registeredAtIso });
      // Country and plate must agree; the schema names a wrong field.
      expect((await call('POST', '/v1/fleet/trucks', testKeys.haiha, { plate: '14C-123.46', country: 'CN' })).json()).toMatchObject({ status: 400, errors: [{ field: '/body/plate' }] });
      expect((await call('POST', '/v1/fleet/trucks', testKeys.haiha, { plate: '14C-123.46', country: 'VN', driverPhone: 'call me' })).json()).toMatchObject({ status: 400, errors: [{ field: '/body/driverPhone' }] });
      expect((await call('POST', '/v1/fleet/trucks', testKeys.display, { plate: '14C-123.46', country: 'VN' })).statusCode).toBe(403);
      expect((await call('POST', '/v1/fleet/trucks', testKeys.operator, { plate: '14C-123.46', country: 'VN' })).statusCode).toBe(403);

      // The second firm: the truck is someone else's, and nothing more.
      const booked = await hold(testKeys.haiha, '14C-123.45', 'fleet-0001');
      expect(booked.statusCode).toBe(201);
      const taken = await call('POST', '/v1/fleet/trucks', testKeys.donghung, { plate: '14C-123.45', country: 'VN' });
      expect(taken.statusCode).toBe(409);
      expect(taken.json()).toMatchObject({ type: problem('plate-in-another-fleet'), rule: 'plate-in-another-fleet', errors: [{ field: '/body/plate' }] });
      expect(taken.body).not.toMatch(/haiha|bk_/);
      const notOwn = await hold(testKeys.donghung, '14C-123.45', 'donghung-0001');
      expect(notOwn.statusCode).toBe(422);
      expect(notOwn.json()).toMatchObject({ type: problem('plate-not-in-fleet'), rule: 'plate-not-in-fleet', errors: [{ field: '/body/plate' }] });
      expect(notOwn.body).not.toMatch(/haiha|bk_|booked/);
      // The same answer for a truck nobody booked, and for one in no fleet: a refusal cannot tell them apart.
      await registerFleet(http, testKeys.haiha, ['14C-500.01']);
      const unbooked = await hold(testKeys.donghung, '14C-500.01', 'donghung-0002');
      const nobodys = await hold(testKeys.donghung, '14C-500.02', 'donghung-0003');
      for (const answer of [unbooked, nobodys]) expect({ status: answer.statusCode, ...answer.json(), instance: undefined }).toEqual({ status: 422, ...notOwn.json(), instance: undefined });
      const batch = await call('POST', '/v1/bookings:batch', testKeys.donghung, { items: [{ idempotencyKey: 'dh-batch-01', site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate: '14C12345', cargoClass: 'farm-produce' }] });
      expect(batch.json().results).toMatchObject([{ status: 422, problem: { rule: 'plate-not-in-fleet', errors: [{ field: '/body/items/0/plate' }] } }]);
      expect((await call('GET', '/v1/fleet/trucks', testKeys.donghung)).json()).toEqual({ trucks: [] });
      expect((await call('GET', '/v1/fleet/trucks?firm=haiha-logistics', testKeys.donghung)).statusCode).toBe(403);
      // Another firm's truck is as missing as no truck: 404, never 403.
      for (const plate of ['14C-123.45', '14C12345', '14C-999.99']) {
        const removed = await call('DELETE', `/v1/fleet/trucks/${plate}`, testKeys.donghung);
        expect(removed.statusCode, plate).toBe(404);
        expect(removed.json()).toMatchObject({ type: problem('not-found') });
      }
      expect((await call('POST', '/v1/fleet/trucks/14C-123.45:transfer', testKeys.donghung, { toFirm: 'donghung-trade' })).statusCode).toBe(403);

      // The owner: its fleet; the truck's booking ahead stops its removal.
      expect((await call('GET', '/v1/fleet/trucks', testKeys.haiha)).json().trucks.map((t: { plateKey: string }) => t.plateKey)).toEqual(['14C12345', '14C50001']);
      expect((await call('GET', '/v1/fleet/trucks?firm=haiha-logistics', testKeys.haiha)).statusCode).toBe(200);
      const busy = await call('DELETE', '/v1/fleet/trucks/14C-123.45', testKeys.haiha);
      expect(busy.statusCode).toBe(409);
      expect(busy.json()).toMatchObject({ type: problem('truck-has-bookings') });
      // A second booking of its own truck in the window: plate-already-booked concerns only the firm's own trucks.
      expect((await hold(testKeys.haiha, '14C-123.45', 'fleet-0002')).json()).toMatchObject({ status: 409, rule: 'plate-already-booked' });

      // Operators: a firm's fleet, and a transfer; the booking stays the first firm's.
      expect((await call('GET', '/v1/fleet/trucks', testKeys.operator)).json()).toMatchObject({ status: 400, errors: [{ field: '/querystring/firm' }] });
      expect((await call('GET', '/v1/fleet/trucks?firm=haiha-logistics', testKeys.operator)).json().trucks).toHaveLength(2);
      expect((await call('GET', '/v1/fleet/trucks', testKeys.display)).statusCode).toBe(403);
      expect((await call('POST', '/v1/fleet/trucks/14C-999.99:transfer', testKeys.operator, { toFirm: 'donghung-trade' })).statusCode).toBe(404);
      // Not while the firm that has the truck holds it ahead: the new owner would be refused plate-already-booked, the old could still confirm.
      const blocked = await call('POST', '/v1/fleet/trucks/14C-123.45:transfer', testKeys.operator, { toFirm: 'donghung-trade' });
      expect(blocked.statusCode).toBe(409);
      expect(blocked.json()).toMatchObject({ type: problem('truck-has-bookings'), bookings: 1 });
      expect(blocked.json().detail).toMatch(/cancel/);
      // A firm nobody has a key for: 422 naming toFirm, the truck stays.
      const typo = await call('POST', '/v1/fleet/trucks/14C-123.45:transfer', testKeys.operator, { toFirm: 'donghung-trde' });
      expect(typo.statusCode).toBe(422);
      expect(typo.json()).toMatchObject({ type: problem('unknown-firm'), errors: [{ field: '/body/toFirm' }] });
      // The operator cancels the booking, then moves the truck.
      expect((await call('DELETE', `/v1/bookings/${booked.json().id}`, testKeys.operator)).statusCode).toBe(200);
      const moved = await call('POST', '/v1/fleet/trucks/14C-123.45:transfer', testKeys.operator, { toFirm: 'donghung-trade' });
      expect(moved.statusCode).toBe(200);
      expect(moved.json()).toMatchObject({ plateKey: '14C12345', firm: 'donghung-trade', fromFirm: 'haiha-logistics' });
      expect((await hold(testKeys.haiha, '14C-123.45', 'fleet-0003', windowStart + windowMs)).json()).toMatchObject({ status: 422, rule: 'plate-not-in-fleet' });
      // The new owner books it in the window the first firm had: nothing of the first firm's booking is left to answer with.
      expect((await hold(testKeys.donghung, '14C-123.45', 'donghung-0004')).statusCode).toBe(201);
      // The new owner removes it once its own hold is cancelled.
      const own = await call('GET', '/v1/bookings', testKeys.donghung);
      expect((await call('DELETE', `/v1/bookings/${own.json().bookings[0].id}`, testKeys.donghung)).statusCode).toBe(200);
      expect((await call('DELETE', '/v1/fleet/trucks/14C12345', testKeys.donghung)).statusCode).toBe(204);
      expect((await call('GET', '/v1/fleet/trucks', testKeys.donghung)).json()).toEqual({ trucks: [] });

      // Chinese plates in the path, URL-encoded; the fleet cap (4 here).
      await registerFleet(http, testKeys.donghung, ['桂A12345', '桂A·23456', '14C-700.01', '14C-700.02']);
      const full = await call('POST', '/v1/fleet/trucks', testKeys.donghung, { plate: '14C-700.03', country: 'VN' });
      expect(full.json()).toMatchObject({ status: 409, rule: 'fleet-full', limit: 4 });
      expect((await call('POST', '/v1/fleet/trucks', testKeys.donghung, { plate: '桂A23456', country: 'CN' })).statusCode).toBe(200);
      expect((await call('POST', '/v1/fleet/trucks/14C-500.01:transfer', testKeys.operator, { toFirm: 'donghung-trade' })).json()).toMatchObject({ status: 409, rule: 'fleet-full' });
      expect((await call('DELETE', `/v1/fleet/trucks/${encodeURIComponent('桂A12345')}`, testKeys.donghung)).statusCode).toBe(204);
      expect((await call('GET', '/v1/fleet/trucks', testKeys.donghung)).json().trucks.map((t: { plate: string }) => t.plate)).toEqual(['14C-700.01', '14C-700.02', '桂A23456']);
    } finally {
      await slots.close();
    }
  });
  test('at start, a truck booked before fleets existed joins its booking firm’s fleet: another firm registering it is refused plate-in-another-fleet, never later told plate-already-booked', { timeout: 90_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 1 }), trucks: await createTopic({ partitions: 1 }), deadLetter: await createTopic({ partitions: 1 }) };
    // A Redis database of its own: the adoption reads every live booking, once per Redis.
    const own = redis.redis.duplicate({ db: 12, lazyConnect: true });
    await own.connect();
    await own.del('slots:migrations:fleet-owners', 'slots:due');
    const slots = await startSlots({ kafka, redis: own, clickhouse: clickhouse.client, logger, topics });
    try {
      const windowStart = Math.ceil((Date.now() + 5 * 3_600_000) / windowMs) * windowMs;
      const plate = `14C-${String(Date.now()).slice(-5, -2)}.${String(Date.now()).slice(-2)}`;
      await registerFleet(slots.http, testKeys.haiha, [plate]);
      const booked = await slots.http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(testKeys.haiha), 'idempotency-key': `pre-${plate}` }, payload: { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'farm-produce' } });
      expect(booked.statusCode).toBe(201);
      // As before fleets: the booking, no owner, no fleet.
      await own.del(`slots:truck-owner:${truckOf(plate)}`, 'slots:fleet:haiha-logistics', `slots:fleet:haiha-logistics:live:${truckOf(plate)}`);
      await slots.parts.find((part) => part.name === 'sweeper')!.start();
      const taken = await slots.http.inject({ method: 'POST', url: '/v1/fleet/trucks', headers: bearer(testKeys.donghung), payload: { plate, country: 'VN' } });
      expect(taken.json()).toMatchObject({ status: 409, rule: 'plate-in-another-fleet' });
      const fleet = await slots.http.inject({ method: 'GET', url: '/v1/fleet/trucks', headers: bearer(testKeys.haiha) });
      expect(fleet.json().trucks).toMatchObject([{ plate, plateKey: truckOf(plate), country: 'VN' }]);
    } finally {
      await slots.close();
      own.disconnect();
    }
  });
  test('a firm registering trucks of other firms’ fleets is refused 429 past its hourly budget, counted by reason and logged naming the firm; an hour later it registers again', { timeout: 90_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 1 }), trucks: await createTopic({ partitions: 1 }), deadLetter: await createTopic({ partitions: 1 }) };
    // A Redis database of its own: the budget is per firm, and other tests' firms are these.
    const own = redis.redis.duplicate({ db: 13, lazyConnect: true });
    await own.connect();
    await own.del('slots:fleet-refusals:donghung-trade', 'slots:fleet-refusals:haiha-logistics');
    let clock = Date.now();
    const warnings: object[] = [];
    const watched = Object.assign(Object.create(logger) as typeof logger, { warn: (entry: object) => void warnings.push(entry) });
    const slots = await startSlots({ kafka, redis: own, clickhouse: clickhouse.client, logger: watched, topics, now: () => clock }, { rules: { ...defaultLedgerRules, registrationRefusalsPerHour: 3 } });
    try {
      const register = (key: string, plate: string) => slots.http.inject({ method: 'POST', url: '/v1/fleet/trucks', headers: bearer(key), payload: { plate, country: 'VN' } });
      const rivals = ['14C-610.01', '14C-610.02', '14C-610.03', '14C-610.04'];
      await registerFleet(slots.http, testKeys.haiha, rivals);
      for (const plate of rivals.slice(0, 3)) expect((await register(testKeys.donghung, plate)).json()).toMatchObject({ status: 409, rule: 'plate-in-another-fleet' });
      // Past the budget: 429 for any plate, another firm's or nobody's, so nothing more is learnt.
      clock += 10 * 60_000;
      for (const plate of [rivals[3]!, '14C-620.01']) {
        const waiting = await register(testKeys.donghung, plate);
        expect(waiting.statusCode, plate).toBe(429);
        expect(waiting.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(Number(waiting.headers['retry-after'])).toBe(50 * 60);
        expect(waiting.body).not.toMatch(/haiha/);
      }
      expect((await slots.http.inject({ method: 'GET', url: '/v1/fleet/trucks', headers: bearer(testKeys.donghung) })).json()).toEqual({ trucks: [] });
      // Another firm is not held back.
      expect((await register(testKeys.haiha, '14C-630.01')).statusCode).toBe(201);
      expect(warnings).toHaveLength(3);
      expect(warnings[2]).toMatchObject({ firm: 'donghung-trade', keyId: 'donghung-key', inHour: 3, budget: 3 });
      const metrics = (await slots.http.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/tower_slots_fleet_refusals_total\{reason="plate-in-another-fleet"\} 3/);
      expect(metrics).toMatch(/tower_slots_fleet_refusals_total\{reason="over-budget"\} 2/);
      // An hour after the first refusal the firm registers again.
      clock += 50 * 60_000;
      expect((await register(testKeys.donghung, '14C-620.01')).statusCode).toBe(201);
    } finally {
      await slots.close();
      own.disconnect();
    }
  });
});
