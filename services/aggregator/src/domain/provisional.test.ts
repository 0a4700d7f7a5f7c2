import { describe, expect, it } from 'vitest';
import { emptyMeasures } from '@tower/shared';
import { addToBatch, ProvisionalFigures, type DecodedBatch } from './provisional.ts';
import type { RawRow } from './rows.ts';
import { windowKey, type WindowChange } from './windows.ts';

const minute = 1_800_000_000;
const change = (ingestedAt: number): WindowChange => ({ site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart: minute, newestIngestedAt: ingestedAt, late: false });
const key = windowKey(change(0));
const batchOf = (rows: RawRow[], ingestedAt: number): DecodedBatch => {
  const batch: DecodedBatch = { windows: new Map(), stored: false };
  for (const row of rows) addToBatch(batch, change(ingestedAt), row);
  return batch;
};
const crossed: RawRow = { type: 'truck.border-crossed' };
const held: RawRow = { type: 'truck.customs-held' };
const sampled: RawRow = { type: 'lane.queue-sampled', queue_length: 9, has_queue_length: 1, open_ms: 30_000 };
const figures = (startedAt = 0) => new ProvisionalFigures(startedAt, () => true);

describe('ProvisionalFigures', () => {
  it('estimates a window as its last confirmed figures plus every batch decoded since, and forgets a batch once a read begun after its insert confirmed it', () => {
    const provisional = figures();
    const first = batchOf([crossed, held, sampled], 1);
    expect(provisional.decoded(first)[0]!.measures).toMatchObject({ events: 3, trucksCrossed: 1, customsHolds: 1, queueMax: 9, laneOpenMinutes: 0.5, clearanceP50Ms: null });
    first.stored = true;
    const read = provisional.beginRead();
    const stored = { ...emptyMeasures, events: 3, trucksCrossed: 1, customsHolds: 1, queueMax: 9, laneOpenMinutes: 0.5, clearanceP50Ms: 1200 };
    expect(provisional.confirm(key, stored, read, 0)).toEqual({ measures: stored, corrected: false });
    provisional.endRead(read);
    // The second batch is not stored yet: it adds to the confirmed figures, whose quantiles it keeps.
    provisional.decoded(batchOf([crossed], 2));
    expect(provisional.decoded(batchOf([held], 3))[0]!.measures).toMatchObject({ events: 5, trucksCrossed: 2, customsHolds: 2, clearanceP50Ms: 1200 });
  });

  it('counts a correction when the stored figures differ from the estimate of the batches the read included, and drops a batch whose insert failed', () => {
    const provisional = figures();
    const failed = batchOf([crossed, crossed], 1);
    provisional.decoded(failed);
    expect(provisional.dropped(failed)).toEqual([change(1)]);
    const retried = batchOf([crossed], 1);
    provisional.decoded(retried);
    retried.stored = true;
    const read = provisional.beginRead();
    expect(read.included).toEqual(new Set([retried]));
    expect(provisional.confirm(key, { ...emptyMeasures, events: 1, trucksCrossed: 1 }, read, 0).corrected).toBe(false);
    provisional.endRead(read);
    const next = batchOf([crossed], 2);
    provisional.decoded(next);
    next.stored = true;
    // Another member stored an event of the same window meanwhile: the estimate was one short.
    expect(provisional.confirm(key, { ...emptyMeasures, events: 3, trucksCrossed: 2 }, provisional.beginRead(), 0).corrected).toBe(true);
  });

  it('a read during which a batch of the window was in flight publishes its figures but keeps the estimate on the last settled base', () => {
    const provisional = figures();
    const first = batchOf([crossed], 1);
    provisional.decoded(first);
    first.stored = true;
    const read = provisional.beginRead();
    const during = batchOf([crossed], 2);
    provisional.decoded(during);
    during.stored = true;
    // The read saw both batches (or only the first: it cannot tell); either way nothing is counted twice or left out.
    expect(provisional.confirm(key, { ...emptyMeasures, events: 2, trucksCrossed: 2, clearanceP50Ms: 900 }, read, 0)).toEqual({ measures: expect.objectContaining({ events: 2 }), corrected: false });
    provisional.endRead(read);
    expect(provisional.decoded(batchOf([held], 3))[0]!.measures).toMatchObject({ events: 3, trucksCrossed: 2, customsHolds: 1, clearanceP50Ms: 900 });
  });

  it('withdraws announced figures of which nothing is stored with empty confirmed ones, and says nothing of a window it never announced', () => {
    const provisional = figures();
    const lost = batchOf([crossed], 1);
    provisional.decoded(lost);
    provisional.dropped(lost);
    const read = provisional.beginRead();
    expect(provisional.confirm(key, undefined, read, 0)).toEqual({ measures: emptyMeasures, corrected: false });
    expect(provisional.confirm(key, undefined, read, 0)).toEqual({ corrected: false });
  });

  it('estimates no window that began before it started and has no confirmed figures (its stored figures are unknown)', () => {
    const provisional = figures((minute + 60) * 1000);
    expect(provisional.decoded(batchOf([crossed], 1))).toEqual([]);
  });
});
