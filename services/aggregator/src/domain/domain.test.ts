import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '@tower/shared';
import { LaneOpenTracker } from './lanes.ts';
import { RecentIds } from './recent-ids.ts';
import { LiveWindows } from './windows.ts';

const dims = { site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart' };

describe('LiveWindows', () => {
  it('calls an event late only once the watermark has passed its window, and marks the change', () => {
    const windows = new LiveWindows(120_000);
    const t0 = 1_795_000_020_000 - (1_795_000_020_000 % 60_000);
    expect(windows.note({ ...dims, observedAt: t0 + 1000, ingestedAt: 1 })).toBe(false);
    expect(windows.note({ ...dims, observedAt: t0 + 170_000, ingestedAt: 2 })).toBe(false);
    expect(windows.isFinal(t0 / 1000)).toBe(false); // watermark t0+50s: window ends t0+60s
    expect(windows.note({ ...dims, observedAt: t0 + 200_000, ingestedAt: 3 })).toBe(false);
    expect(windows.isFinal(t0 / 1000)).toBe(true);
    windows.drain();
    expect(windows.note({ ...dims, observedAt: t0 + 30_000, ingestedAt: 9 })).toBe(true);
    expect(windows.drain()).toEqual([{ ...dims, windowStart: t0 / 1000, newestIngestedAt: 9, late: true }]);
  });

  it('keeps the newest ingest time when failed changes are restored under newer ones', () => {
    const windows = new LiveWindows(0);
    windows.note({ ...dims, observedAt: 60_000, ingestedAt: 5 });
    const failed = windows.drain();
    windows.note({ ...dims, observedAt: 61_000, ingestedAt: 4 });
    windows.restore(failed);
    expect(windows.drain()).toEqual([{ ...dims, windowStart: 60, newestIngestedAt: 5, late: false }]);
  });
});

describe('RecentIds', () => {
  it('forgets the oldest ids beyond its capacity', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd', 'b']) ids.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    for (let i = 0; i < 20; i += 1) ids.add(`x${i}`);
    expect(ids.size).toBe(3);
    expect(ids.has('x19') && !ids.has('x16')).toBe(true);
  });
});

describe('LaneOpenTracker', () => {
  const lane = (type: LaneEvent['type'], observedAt: number) => ({ type, site: 'bac-luan-2', lane: 'bl2-smart-ex-1', observedAt }) as LaneEvent;
  it('credits open time to the event that ends each open interval, none while closed', () => {
    const tracker = new LaneOpenTracker();
    expect(tracker.apply(lane('lane.opened', 0))).toBe(0);
    expect(tracker.apply(lane('lane.queue-sampled', 60_000))).toBe(60_000);
    expect(tracker.apply(lane('lane.closed', 90_000))).toBe(30_000);
    expect(tracker.apply(lane('lane.queue-sampled', 120_000))).toBe(0);
    expect(tracker.apply(lane('lane.opened', 150_000))).toBe(0);
    expect(tracker.apply(lane('lane.queue-sampled', 100_000))).toBe(0); // out of order: no negative credit
  });

  it('credits nothing for a silence longer than the limit (the lane is not known to have been open)', () => {
    const tracker = new LaneOpenTracker(5 * 60_000);
    tracker.apply(lane('lane.opened', 0));
    expect(tracker.apply(lane('lane.queue-sampled', 5 * 60_000))).toBe(5 * 60_000);
    expect(tracker.apply(lane('lane.queue-sampled', 8 * 3600_000))).toBe(0);
    expect(tracker.apply(lane('lane.queue-sampled', 8 * 3600_000 + 60_000))).toBe(60_000);
  });
});
