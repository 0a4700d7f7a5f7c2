import { createEventValidator, loadCatalog, type TowerEvent } from '@tower/shared';
import { sampleEvents } from '@tower/shared/testing';
import { describe, expect, it } from 'vitest';
import { judgeBatch } from './batch.ts';
import { contentDigest, eventIdConflict, refuseConflictingIds, type EventIdentityLedger, type IdentityClaim } from './event-identity.ts';

/** The ledger's contract in memory: first content wins, later entries see earlier ones. */
class MemoryLedger implements EventIdentityLedger {
  readonly bound = new Map<string, string>();
  async claim(entries: readonly { eventId: string; digest: string }[]): Promise<IdentityClaim[]> {
    return entries.map(({ eventId, digest }) => {
      const before = this.bound.get(eventId);
      if (before === undefined) this.bound.set(eventId, digest);
      return before === undefined ? 'first' : before === digest ? 'same' : 'conflict';
    });
  }
}

const validate = createEventValidator(loadCatalog());
const device = { id: 'bl2-gw-1', site: 'bac-luan-2' };
const judge = (items: unknown[], ledger: EventIdentityLedger) => refuseConflictingIds(judgeBatch(items, validate, device), ledger);

describe('content digest', () => {
  const arrived = sampleEvents().find((e) => e.type === 'truck.arrived')!;

  it('is the same for the same fields in another order, different for any other content', () => {
    const reordered = Object.fromEntries(Object.entries(arrived).reverse()) as TowerEvent;
    expect(contentDigest(reordered)).toBe(contentDigest(arrived));
    expect(contentDigest({ ...arrived, plate: '14C-999.99' })).not.toBe(contentDigest(arrived));
    expect(contentDigest({ ...arrived, observedAt: arrived.observedAt + 1 })).not.toBe(contentDigest(arrived));
    expect(contentDigest({ ...arrived, containers: ['CSQU3054383'] })).not.toBe(contentDigest(arrived));
  });

  it('stays what earlier releases bound in Redis (a re-send after an upgrade is the same content)', () => {
    const fixed = { ...sampleEvents(1_764_547_200_000).find((e) => e.type === 'truck.arrived')!, eventId: '0b5e2c1a-7d3f-4e8a-9c61-2f4d8e7a1b30' };
    expect(contentDigest(fixed)).toBe('RCp6aP09PToK9gml0KE3yY');
  });
});

describe('refuseConflictingIds', () => {
  it('keeps a re-sent event, refuses an id reused for other content, by index and field', async () => {
    const ledger = new MemoryLedger();
    const [arrived, queued] = sampleEvents();
    expect((await judge([arrived], ledger)).accepted).toHaveLength(1);

    const reused = { ...arrived!, plate: '15H-246.80' };
    const verdict = await judge([queued, { ...queued, lane: 'bl2-nowhere' }, reused, arrived], ledger);
    expect(verdict.accepted.map((a) => [a.index, a.event.eventId])).toEqual([[0, queued!.eventId], [3, arrived!.eventId]]);
    expect(verdict.rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([[1, '/lane'], [2, '/eventId']]);
    expect(verdict.rejected[1]).toEqual({ index: 2, eventId: arrived!.eventId, errors: [eventIdConflict] });
    expect(eventIdConflict.reason).toMatch(/^event-id-conflict: /);
  });

  it('refuses the second of two contents for one id within one batch', async () => {
    const [arrived] = sampleEvents();
    const verdict = await judge([arrived, { ...arrived!, direction: 'import' }], new MemoryLedger());
    expect(verdict.accepted.map((a) => a.index)).toEqual([0]);
    expect(verdict.rejected).toEqual([{ index: 1, eventId: arrived!.eventId, errors: [eventIdConflict] }]);
  });

  it('asks nothing when no event is valid', async () => {
    const ledger: EventIdentityLedger = { claim: () => Promise.reject(new Error('must not be asked')) };
    expect((await judge(['junk'], ledger)).rejected).toHaveLength(1);
  });
});
