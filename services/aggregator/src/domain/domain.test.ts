import { describe, expect, it } from 'vitest';
import { clickHouseDateTime, type JourneyView, type LaneEvent } from '@tower/shared';
import { LaneOpenTracker } from './lanes.ts';
import { LiveJourneys } from './live-journeys.ts';
import { RecentIds } from './recent-ids.ts';
import { LiveWindows } from './windows.ts';

const dims = { site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart' };

describe('LiveWindows', () => {
  const from = (source: string) => ({ ...dims, source });
  const t0 = 1_795_000_020_000 - (1_795_000_020_000 % 60_000);

  it('calls an event late only once the watermark has passed its window, and marks the change', () => {
    const windows = new LiveWindows(120_000, 3_600_000);
    const now = t0 + 300_000;
    expect(windows.note({ ...from('p0'), observedAt: t0 + 1000, ingestedAt: 1 }, now)).toBe(false);
    expect(windows.note({ ...from('p0'), observedAt: t0 + 170_000, ingestedAt: 2 }, now)).toBe(false);
    expect(windows.isFinal(t0 / 1000, now)).toBe(false); // watermark t0+50s: window ends t0+60s
    expect(windows.note({ ...from('p0'), observedAt: t0 + 200_000, ingestedAt: 3 }, now)).toBe(false);
    expect(windows.isFinal(t0 / 1000, now)).toBe(true);
    windows.drain();
    expect(windows.note({ ...from('p0'), observedAt: t0 + 30_000, ingestedAt: 9 }, now)).toBe(true);
    expect(windows.drain()).toEqual([{ ...dims, windowStart: t0 / 1000, newestIngestedAt: 9, late: true }]);
  });

  it('holds the watermark at the slowest active partition, so a lagging partition stays on time', () => {
    const windows = new LiveWindows(120_000, 3_600_000, 30_000);
    const now = t0 + 600_000;
    windows.note({ ...from('ahead'), observedAt: t0 + 500_000, ingestedAt: 1 }, now);
    windows.note({ ...from('behind'), observedAt: t0 + 10_000, ingestedAt: 2 }, now);
    // 'ahead' alone would put the watermark at t0+380s; 'behind' holds it at t0-110s.
    expect(windows.note({ ...from('behind'), observedAt: t0 + 20_000, ingestedAt: 3 }, now)).toBe(false);
    expect(windows.isFinal(t0 / 1000, now)).toBe(false);
    // Silent for longer than the idle limit, 'behind' no longer holds it back.
    expect(windows.watermark(now + 31_000)).toBe(t0 + 380_000);
    expect(windows.note({ ...from('behind'), observedAt: t0 + 25_000, ingestedAt: 4 }, now + 31_000)).toBe(true);
    // Once it speaks again it holds the watermark at its own progress.
    expect(windows.watermark(now + 31_000)).toBe(t0 + 25_000 - 120_000);
  });

  it('keeps the newest ingest time when failed changes are restored under newer ones', () => {
    const windows = new LiveWindows(0, 3_600_000);
    windows.note({ ...from('p0'), observedAt: 60_000, ingestedAt: 5 }, 70_000);
    const failed = windows.drain();
    windows.note({ ...from('p0'), observedAt: 61_000, ingestedAt: 4 }, 70_000);
    windows.restore(failed);
    expect(windows.drain()).toEqual([{ ...dims, windowStart: 60, newestIngestedAt: 5, late: false }]);
  });

  it('leaves events beyond the tick horizon to the history: no window, no watermark move', () => {
    const windows = new LiveWindows(120_000, 3_600_000);
    const now = 1_795_000_000_000;
    expect(windows.note({ ...from('p0'), observedAt: now - 3_600_001, ingestedAt: 1 }, now)).toBe(false);
    expect(windows.drain()).toEqual([]);
    expect(windows.watermark(now)).toBe(Number.NEGATIVE_INFINITY);
    windows.note({ ...from('p0'), observedAt: now - 3_500_000, ingestedAt: 2 }, now);
    expect(windows.drain()).toHaveLength(1);
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

describe('clickHouseDateTime', () => {
  it('renders UTC seconds exactly as Date does, across days and at the edges of a day', () => {
    const samples = [0, 999, 1000, 59_999, 86_399_999, 86_400_000, Date.UTC(2026, 10, 23, 16, 59, 59, 999), Date.UTC(2026, 11, 31, 23, 59, 59), Date.UTC(2028, 1, 29, 12, 0, 0)];
    for (let i = 0; i < 2000; i += 1) samples.push(Math.floor(Math.random() * 4_102_444_800_000));
    for (const ms of samples) expect(clickHouseDateTime(ms), String(ms)).toBe(new Date(ms).toISOString().slice(0, 19).replace('T', ' '));
  });
});

describe('live journeys waiting for a round', () => {
  const view = (plate: string, startedAt: number, lastStepAt: number): JourneyView => ({
    plate,
    site: 'bac-luan-2',
    direction: 'export',
    cargoClass: null,
    lanes: [],
    steps: { arrived: startedAt },
    startedAt,
    lastStepAt,
    holdReasons: [],
    grossKg: null,
    declaredGrossKg: null,
    containers: [],
    clearanceMs: null,
    turnaroundMs: null,
    complete: false,
  });

  it('keeps the newest state per journey, and the newest ingest time it includes', () => {
    const journeys = new LiveJourneys();
    journeys.note(view('14C-111.11', 0, 10), 500);
    journeys.note(view('14C-111.11', 0, 20), 400);
    journeys.note(view('14C-111.11', 1000, 1000), 600); // the plate's next journey
    const drained = journeys.drain();
    expect(drained.map((p) => [p.journey.startedAt, p.journey.lastStepAt, p.newestIngestedAt])).toEqual([
      [0, 20, 500],
      [1000, 1000, 600],
    ]);
    expect(journeys.size).toBe(0);
  });

  it('puts a failed round back without overwriting newer states, and stays bounded', () => {
    const journeys = new LiveJourneys(2);
    journeys.note(view('A-00001', 0, 10), 1);
    const failed = journeys.drain();
    journeys.note(view('A-00001', 0, 30), 3);
    journeys.restore(failed);
    expect(journeys.drain().map((p) => p.journey.lastStepAt)).toEqual([30]);
    for (const plate of ['B-00001', 'C-00001', 'D-00001']) journeys.note(view(plate, 0, 0), 0);
    expect(journeys.drain().map((p) => p.journey.plate)).toEqual(['C-00001', 'D-00001']);
    expect(journeys.dropped).toBe(1);
  });
});
