import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import type { BookingAction } from '../domain/bookings.ts';
import { defaultLedgerRules, SlotLedger, type HoldRequest, type SlotWindow } from '../domain/ledger.ts';
import { RedisSlotStore } from './slot-store.ts';

const minute = 60_000;
const rules = { ...defaultLedgerRules, maxPerFirmPerWindow: 3 };

describe('Redis slot store against real Redis', () => {
  test('does what the reference model does, command for command (model-based)', { timeout: 120_000 }, async ({ redis }) => {
    let run = 0;
    let placesGiven = 0;
    let stateChanges = 0;
    const command = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('hold' as const), window: fc.integer({ min: 0, max: 1 }), firm: fc.integer({ min: 0, max: 2 }), plate: fc.integer({ min: 0, max: 6 }), key: fc.integer({ min: 0, max: 10 }), dt: fc.integer({ min: 0, max: minute }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('confirm' as const, 'cancel' as const, 'arrive' as const, 'cross' as const, 'tick' as const), booking: fc.nat({ max: 100 }), dt: fc.oneof(fc.integer({ min: 0, max: 2 * minute }), fc.integer({ min: 0, max: 90 * minute })) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('capacity' as const, 'close' as const), window: fc.integer({ min: 0, max: 1 }), capacity: fc.integer({ min: 0, max: 6 }), dt: fc.constant(0) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
        run += 1;
        // Each run has its own windows, firms and ids, so runs do not see each other's keys.
        const day = 86_400_000;
        const windows: SlotWindow[] = [0, 1].map((i) => ({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: 1_800_000 * minute + run * day + i * 30 * minute }));
        const ledger = new SlotLedger(rules, () => 4);
        const store = new RedisSlotStore(redis.redis, rules, () => 4);
        const given: string[] = [];
        let at = windows[0]!.windowStart - 180 * minute;
        for (const c of commands) {
          at += c.dt;
          if (c.kind === 'capacity') {
            ledger.setCapacity(windows[c.window]!, c.capacity);
            await store.setCapacity(windows[c.window]!, c.capacity);
          } else if (c.kind === 'close') {
            ledger.setClosed(windows[c.window]!, c.capacity % 2 === 0);
            await store.setClosed(windows[c.window]!, c.capacity % 2 === 0);
          } else if (c.kind === 'hold') {
            const request: HoldRequest = { ...windows[c.window]!, firm: `r${run}-firm-${c.firm}`, plate: `14C-10${c.plate}.00`, cargoClass: 'farm-produce', idempotencyKey: `k${c.key}`, at };
            const expected = ledger.hold(request);
            expect(await store.hold(request)).toEqual(expected);
            if (expected.ok && !expected.replayed) {
              given.push(expected.booking.id);
              placesGiven += 1;
            }
          } else if ('booking' in c) {
            const id = given.length > 0 ? given[c.booking % given.length]! : 'bk_unknown';
            const action: BookingAction = c.kind === 'cancel' ? { type: 'cancel', at, by: 'firm' } : { type: c.kind, at };
            const expected = ledger.act(id, action);
            expect(await store.act(id, action)).toEqual(expected);
            if (expected?.ok && expected.changed) stateChanges += 1;
          }
          for (const window of windows) expect(await store.availability(window, at)).toEqual(ledger.availability(window, at));
        }
      }),
      { numRuns: 300 },
    );
    // Both sides of every rule were exercised, not only refusals.
    expect(placesGiven).toBeGreaterThan(200);
    expect(stateChanges).toBeGreaterThan(40);
  });

  test('1,000 concurrent requests for the last 10 places give exactly 10 bookings; concurrent retries give one booking each', { timeout: 60_000 }, async ({ redis }) => {
    const store = new RedisSlotStore(redis.redis, { ...rules, maxPerFirmPerWindow: 1000 }, () => 110);
    const window: SlotWindow = { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: 1_899_990 * minute };
    const at = window.windowStart - 60 * minute;
    const request = (i: number, key = `k${i}`): HoldRequest => ({ ...window, firm: `firm-${i % 50}`, plate: `14C-${String(10_000 + i).slice(-5)}`, cargoClass: 'electronics', idempotencyKey: key, at });
    for (let i = 0; i < 100; i += 1) {
      const outcome = await store.hold(request(i));
      if (!outcome.ok) throw new Error(`place ${i} refused: ${outcome.refusal}`);
    }
    expect(await store.availability(window, at)).toMatchObject({ held: 100, free: 10 });

    const race = await Promise.all(Array.from({ length: 1000 }, (_, i) => store.hold(request(1000 + i))));
    expect(race.filter((o) => o.ok)).toHaveLength(10);
    expect(race.filter((o) => !o.ok).every((o) => !o.ok && o.refusal === 'window-full')).toBe(true);
    expect(await store.availability(window, at)).toMatchObject({ capacity: 110, held: 110, free: 0 });

    // Retries: 20 requests, each sent 10 times at once, into a fresh window.
    const other = { ...window, windowStart: window.windowStart + 30 * minute };
    const retries = await Promise.all(Array.from({ length: 200 }, (_, i) => store.hold({ ...request(i % 20, `retry-${i % 20}`), ...other })));
    const ids = new Map<string, Set<string>>();
    retries.forEach((o, i) => {
      if (!o.ok) throw new Error(o.refusal);
      const key = `retry-${i % 20}`;
      ids.set(key, (ids.get(key) ?? new Set()).add(o.booking.id));
    });
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    expect(await store.availability(other, at)).toMatchObject({ held: 20 });
  });
});
