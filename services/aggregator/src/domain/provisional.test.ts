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
  it('estimates a window as its last confirmed figures plus every batch decoded since, and forgets a batch once a round after its insert confirmed it', () => {
    const provisional = figures();
    const first = batchOf([crossed, held, sampled], 1);
    expect(provisional.decoded(first)[0]!.measures).toMatchObject({ events: 3, trucksCrossed: 1, customsHolds: 1, queueMax: 9, laneOpenMinutes: 0.5, clearanceP50Ms: null });
    first.stored = true;
    const included = new Set(provisional.storedBatches());
    const second = batchOf([crossed], 2);
    provisional.decoded(second);
    const stored = { ...emptyMeasures, events: 3, trucksCrossed: 1, customsHolds: 1, queueMax: 9, laneOpenMinutes: 0.5, clearanceP50Ms: 1200 };
    expect(provisional.confirm(key, stored, included, 0)).toBe(false);
    provisional.settle(included);
    // The second batch is not stored yet: it still adds to the confirmed figures, whose quantiles it keeps.
    const third = batchOf([held], 3);
    expect(provisional.decoded(third)[0]!.measures).toMatchObject({ events: 5, trucksCrossed: 2, customsHolds: 2, clearanceP50Ms: 1200 });
  });

  it('counts a correction when the stored figures differ from the estimate of the batches the round included, and drops a batch whose insert failed', () => {
    const provisional = figures();
    const failed = batchOf([crossed, crossed], 1);
    provisional.decoded(failed);
    provisional.dropped(failed);
    const retried = batchOf([crossed], 1);
    provisional.decoded(retried);
    retried.stored = true;
    const included = new Set(provisional.storedBatches());
    expect(included).toEqual(new Set([retried]));
    expect(provisional.confirm(key, { ...emptyMeasures, events: 1, trucksCrossed: 1 }, included, 0)).toBe(false);
    provisional.settle(included);
    const next = batchOf([crossed], 2);
    provisional.decoded(next);
    next.stored = true;
    // Another member stored an event of the same window meanwhile: the estimate was one short.
    expect(provisional.confirm(key, { ...emptyMeasures, events: 3, trucksCrossed: 2 }, new Set([next]), 0)).toBe(true);
  });

  it('estimates no window that began before it started and has no confirmed figures (its stored figures are unknown)', () => {
    const provisional = figures((minute + 60) * 1000);
    expect(provisional.decoded(batchOf([crossed], 1))).toEqual([]);
  });
});
