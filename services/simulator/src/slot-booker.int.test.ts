import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { defaultLedgerRules } from '../../slots/src/domain/ledger.ts';
import { vnTruck } from '../../slots/src/domain/test-support.ts';
import { startSlots, testKeys } from '../../slots/src/test-support.ts';
import { SlotBooker } from './slot-booker.ts';
import type { PlannedBooking } from './domain/slot-demand.ts';

const windowMs = 30 * 60_000;

describe('simulated firms on the real slots API', () => {
  test('register each truck in one firm’s fleet, hold and confirm as planned, count refusals by rule, retry while the API is away', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics });
    await slots.http.listen({ port: 0, host: '127.0.0.1' });
    const port = (slots.http.server.address() as AddressInfo).port;
    try {
      const windowStart = Math.ceil((Date.now() + 3_600_000) / windowMs) * windowMs;
      const plan = (plate: string, confirm: boolean): PlannedBooking => ({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'machinery', idempotencyKey: `sim-test-${plate}`, confirm });

      // Nothing listens here: the plans wait and are tried again, not lost.
      const away = new SlotBooker('http://127.0.0.1:9', [testKeys.haiha], logger);
      away.enqueue([plan('14C-880.01', true)]);
      await away.flush();
      expect(away.stats).toMatchObject({ held: 0, failed: 1 });
      expect(away.queued).toBe(1);

      const booker = new SlotBooker(`http://127.0.0.1:${port}`, [testKeys.haiha, testKeys.donghung], logger);
      booker.enqueue([plan('14C-880.01', true), plan('14C-880.02', false), plan('14C-880.03', true), { ...plan('14C-880.01', true), idempotencyKey: 'sim-test-again' }]);
      while (booker.queued > 0) await booker.flush();
      expect(booker.stats).toMatchObject({ held: 3, confirmed: 2, failed: 0, refused: { 'plate-already-booked': 1 } });
      const bookings = await slots.store.windowBookings([{ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart }], 100, Date.now());
      // Each truck is booked by the firm whose fleet it is in (the same firm for a plate every run).
      expect(bookings.map((b) => [b.plate, b.state, b.firm]).sort()).toEqual([
        ['14C-880.01', 'confirmed', 'donghung-trade'],
        ['14C-880.02', 'held', 'haiha-logistics'],
        ['14C-880.03', 'confirmed', 'donghung-trade'],
      ]);
      expect((await slots.store.fleet('donghung-trade')).map((t) => t.plate)).toEqual(['14C-880.01', '14C-880.03']);
      expect((await slots.store.fleet('haiha-logistics')).map((t) => t.plate)).toEqual(['14C-880.02']);
    } finally {
      await slots.close();
    }
  });

  test('a full fleet makes room: the trucks registered longest ago without a booking ahead leave it, then the new truck is booked', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { rules: { ...defaultLedgerRules, maxFleetTrucks: 3 } });
    await slots.http.listen({ port: 0, host: '127.0.0.1' });
    const port = (slots.http.server.address() as AddressInfo).port;
    try {
      const windowStart = Math.ceil((Date.now() + 3_600_000) / windowMs) * windowMs;
      // A full fleet: the oldest truck has a booking ahead, the next two none.
      for (const [i, plate] of ['14C-990.01', '14C-990.02', '14C-990.03'].entries()) await slots.store.registerTruck('haiha-logistics', vnTruck(plate), i);
      const busy = await slots.store.hold({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, firm: 'haiha-logistics', plate: '14C-990.01', cargoClass: 'machinery', idempotencyKey: 'busy-truck', at: Date.now() });
      expect(busy.ok).toBe(true);
      const booker = new SlotBooker(`http://127.0.0.1:${port}`, [testKeys.haiha], logger, { maxInFlight: 1, maxQueued: 10, evictions: 2 });
      booker.enqueue([{ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate: '14C-990.04', cargoClass: 'machinery', idempotencyKey: 'sim-test-990-04', confirm: true }]);
      while (booker.queued > 0) await booker.flush();
      expect(booker.stats).toMatchObject({ held: 1, confirmed: 1, failed: 0, refused: {} });
      expect((await slots.store.fleet('haiha-logistics')).map((t) => t.plate)).toEqual(['14C-990.01', '14C-990.03', '14C-990.04']);
    } finally {
      await slots.close();
    }
  });
});
