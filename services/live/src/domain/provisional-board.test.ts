import { describe, expect, it } from 'vitest';
import { emptyMeasures, type ThroughputTick } from '@tower/shared';
import { provisionalTrustMs } from './provisional.ts';
import { onlyConfirms, ThroughputBoard } from './streams.ts';

const now = 10 * 3_600_000;
const tick = (provisional: boolean, events: number, newestIngestedAt: number, publishedAt: number): ThroughputTick => ({
  site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart: now - 60_000, windowEnd: now, final: false, correction: false,
  ...emptyMeasures, events, newestIngestedAt, publishedAt, provisional,
});
const shown = (board: ThroughputBoard) => board.matching({}, now).map((t) => [t.provisional, t.events]);

describe('provisional ticks on the throughput board', () => {
  it('shows a provisional figure at once and always replaces it with the confirmed one of its events, even one published earlier by another clock', () => {
    const board = new ThroughputBoard(3_600_000);
    expect(board.put(tick(true, 5, 100, 200), now)).toBe(true);
    expect(shown(board)).toEqual([[true, 5]]);
    const confirmed = tick(false, 6, 100, 150);
    expect(board.put(confirmed, now)).toBe(true);
    expect(shown(board)).toEqual([[false, 6]]);
    // It brings no newer event than the provisional one did: not counted as freshness again.
    expect(onlyConfirms(confirmed)).toBe(true);
    expect(onlyConfirms(tick(false, 6, 100, 150))).toBe(false);
  });

  it('refuses a provisional tick whose events a confirmed tick already holds', () => {
    const board = new ThroughputBoard(3_600_000);
    board.put(tick(false, 6, 100, 300), now);
    expect(board.put(tick(true, 5, 100, 310), now)).toBe(false);
    expect(shown(board)).toEqual([[false, 6]]);
    expect(board.put(tick(true, 8, 101, 320), now)).toBe(true);
  });

  it('refuses a confirmed tick of older events than the provisional figures shown (no dip), until the provisional tick is too old to trust', () => {
    const board = new ThroughputBoard(3_600_000);
    board.put(tick(true, 9, 200, 1_000), now);
    expect(board.put(tick(false, 6, 150, 1_100), now)).toBe(false);
    expect(shown(board)).toEqual([[true, 9]]);
    expect(board.put(tick(false, 7, 150, 1_000 + provisionalTrustMs), now)).toBe(true);
    expect(shown(board)).toEqual([[false, 7]]);
  });
});
