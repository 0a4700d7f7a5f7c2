import { describe, expect, it } from 'vitest';
import { classifyError, loadCatalog, ProblemError, roundTheClockPlan, type AccessRecord } from '@tower/shared';
import { SlotDesk, type ChangePublisher } from './desk.ts';
import { BookingNotFound, ForbiddenForRole, InvalidInput, StoreUnavailable } from './desk-errors.ts';
import { defaultLedgerRules } from './domain/ledger.ts';
import type { RedisSlotStore } from './store/slot-store.ts';

const catalog = loadCatalog();
const redisDown = () => Promise.reject(new Error('Connection is closed.'));
/** The store's reads and actions, each failing as a Redis that went away fails. */
const unreachableStore = { rules: defaultLedgerRules, plateBookings: redisDown, booking: redisDown, act: redisDown, hold: redisDown, due: redisDown } as unknown as RedisSlotStore;
const publisher: ChangePublisher = { publish: async () => {} };
const desk = new SlotDesk(unreachableStore, publisher, roundTheClockPlan(catalog.document), catalog, { horizonMs: 14 * 86_400_000, maxRangeMs: 7 * 86_400_000, maxBookings: 100, knownFirm: () => true });
const display: AccessRecord = { id: 'wall-t', role: 'display', name: 'wall', tokenSha256: '', maxConnections: 1, enabled: true };
const operator: AccessRecord = { ...display, id: 'operator-t', role: 'operator' };

async function failure(call: () => Promise<unknown>): Promise<Error> {
  const error = await call().then(() => undefined, (e: unknown) => e);
  if (!(error instanceof Error)) throw new Error('expected the desk to refuse');
  expect(error).not.toBeInstanceOf(ProblemError);
  return error;
}

describe('the slot desk says no in domain errors, never HTTP ones', () => {
  it('check-in and crossing with Redis away: StoreUnavailable, which the consumer retries', async () => {
    for (const call of [() => desk.arrive('29C-12345', 'bac-luan-2', 'export', Date.now()), () => desk.cross('29C-12345', 'bac-luan-2', Date.now()), () => desk.sweep(Date.now(), 10)]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(StoreUnavailable);
      expect(error).toMatchObject({ store: 'redis', retryAfterSeconds: 2 });
      expect(classifyError(error)).toBe('transient');
    }
  });

  it('a role that may not: ForbiddenForRole naming the role', async () => {
    const error = await failure(() => desk.hold(display, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: 0, plate: '29C-12345', cargoClass: 'machinery', idempotencyKey: 'k', at: 0 }));
    expect(error).toBeInstanceOf(ForbiddenForRole);
    expect(error).toMatchObject({ role: 'display' });
  });

  it('an input the desk cannot act on: InvalidInput naming the field as the caller gave it', async () => {
    const error = await failure(() => desk.bookings(operator, { from: 10, to: 5 }, 0));
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).issues).toEqual([{ field: 'to', reason: 'must be after from' }]);
  });

  it('a booking Redis cannot read is unavailable, not missing', async () => {
    const error = await failure(() => desk.booking(operator, 'b-1', 0));
    expect(error).toBeInstanceOf(StoreUnavailable);
    expect(error).not.toBeInstanceOf(BookingNotFound);
  });
});
