import { describe, expect } from 'vitest';
import type { SlotBooking } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { zoneLaneGroups as groups } from './domain/test-support.ts';
import { bearer, registerFleet, startSlots, testKeys } from './test-support.ts';

const minute = 60_000;
const windowMs = 30 * minute;

describe('one held or confirmed booking per truck and window across the zone', () => {
  test('the same plate in one window at two lane groups of Bắc Luân II, Vạn Ninh and Pò Hèn: the first is held, the others 409 plate-already-booked until it is cancelled or lapses; another firm hears only that the truck is not its own', { timeout: 60_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    const topics = { slots: await createTopic({ partitions: 3 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    let clock = Date.now();
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics, now: () => clock });
    try {
      const windowStart = Math.ceil((clock + 3 * 3_600_000) / windowMs) * windowMs;
      const plate = '14C-613.13';
      const hold = (group: (typeof groups)[number], key: string, who = testKeys.haiha, overrides: object = {}) =>
        slots.http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(who), 'idempotency-key': key }, payload: { ...group, windowStart, plate, cargoClass: 'farm-produce', ...overrides } });
      const expectRefused = async (group: (typeof groups)[number], key: string, who = testKeys.haiha, overrides: object = {}) => {
        const refused = await hold(group, key, who, overrides);
        expect(refused.statusCode, `${group.site} ${group.laneKind} ${group.direction}`).toBe(409);
        expect(refused.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/plate-already-booked', rule: 'plate-already-booked' });
      };

      await registerFleet(slots.http, testKeys.haiha, [plate]);
      const first = await hold(groups[0], 'zone-first');
      expect(first.statusCode).toBe(201);
      const booking = first.json<SlotBooking>();
      // Another lane group, direction or site: refused.
      for (const [i, group] of groups.slice(1).entries()) await expectRefused(group, `zone-held-${i}`);
      // The plate written without its separators is the same truck.
      await expectRefused(groups[3], 'zone-bare-plate', testKeys.haiha, { plate: '14C61313' });
      // Another firm is told the truck is not in its fleet, never that it is booked.
      for (const [i, group] of groups.entries()) expect((await hold(group, `zone-other-firm-${i}`, testKeys.donghung)).json()).toMatchObject({ status: 422, rule: 'plate-not-in-fleet' });
      // Confirmed, it still holds the truck.
      expect((await slots.http.inject({ method: 'POST', url: `/v1/bookings/${booking.id}/confirm`, headers: bearer(testKeys.haiha) })).statusCode).toBe(200);
      for (const [i, group] of groups.slice(1).entries()) await expectRefused(group, `zone-confirmed-${i}`);
      // The next window is another time: the truck may be booked there.
      expect((await hold(groups[4], 'zone-next-window', testKeys.haiha, { windowStart: windowStart + windowMs })).statusCode).toBe(201);

      // Cancelled, the truck is free in that window again, at any site.
      expect((await slots.http.inject({ method: 'DELETE', url: `/v1/bookings/${booking.id}`, headers: bearer(testKeys.haiha) })).json()).toMatchObject({ state: 'cancelled' });
      const vanNinh = await hold(groups[3], 'zone-after-cancel');
      expect(vanNinh.statusCode).toBe(201);
      await expectRefused(groups[0], 'zone-after-cancel-again');

      // A hold that lapses frees the truck at once (before the sweeper marks it expired)…
      clock += 6 * minute;
      const poHen = await hold(groups[4], 'zone-after-lapse');
      expect(poHen.statusCode).toBe(201);
      // …and the sweeper marking the lapsed hold expired does not free the newer one.
      await slots.sweeper.runOnce();
      const expired = await slots.http.inject({ method: 'GET', url: `/v1/bookings/${vanNinh.json<SlotBooking>().id}`, headers: bearer(testKeys.haiha) });
      expect(expired.json()).toMatchObject({ state: 'expired' });
      await expectRefused(groups[1], 'zone-after-sweep');
    } finally {
      await slots.close();
    }
  });
});
