import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { emptyMeasures, throughputSteps } from '@tower/shared';
import { alignRange, bucketStart, fillSeries, HistoryRangeError, latestMs } from './series.ts';

const at = Date.UTC(2026, 10, 23, 9, 37, 12, 345); // 16:37 in Vietnam

describe('throughput buckets', () => {
  it('aligns a range outward to whole buckets, the current one included', () => {
    const range = alignRange({ from: Date.UTC(2026, 10, 23, 9, 2, 30), to: Date.UTC(2026, 10, 23, 9, 11, 0, 1), step: '5m' }, at, 100);
    expect(range).toEqual({ step: '5m', fromMs: Date.UTC(2026, 10, 23, 9, 0), toMs: Date.UTC(2026, 10, 23, 9, 15), buckets: 3 });
  });

  it('keeps an aligned end exclusive', () => {
    const range = alignRange({ from: Date.UTC(2026, 10, 23, 9, 0), to: Date.UTC(2026, 10, 23, 10, 0), step: '1h' }, at, 100);
    expect(range.buckets).toBe(1);
  });

  it('defaults to the last buckets up to the current one', () => {
    const range = alignRange({ step: '1m' }, at, 100);
    expect(range.toMs).toBe(Date.UTC(2026, 10, 23, 9, 38));
    expect(range.buckets).toBe(60);
  });

  it('cuts days at midnight in Vietnam (17:00 UTC)', () => {
    expect(bucketStart(at, '1d')).toBe(Date.UTC(2026, 10, 22, 17, 0));
    expect(bucketStart(Date.UTC(2026, 10, 23, 17, 0), '1d')).toBe(Date.UTC(2026, 10, 23, 17, 0));
    const range = alignRange({ step: '1d' }, at, 100);
    expect(range.toMs).toBe(Date.UTC(2026, 10, 23, 17, 0));
    expect(range.fromMs).toBe(Date.UTC(2026, 9, 24, 17, 0));
  });

  it('rejects a reversed range and one with too many buckets, naming the field', () => {
    expect(() => alignRange({ from: at, to: at - 1, step: '1m' }, at, 100)).toThrow(HistoryRangeError);
    try {
      alignRange({ from: at - 7 * 86_400_000, step: '1m' }, at, 2000);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ field: 'from', reason: expect.stringContaining('10081 buckets of 1m; at most 2000') });
    }
  });

  it('never ranges before the epoch or past the latest time: a default from stops at the epoch, a from or to beyond is refused by name', () => {
    const refusal = (request: Parameters<typeof alignRange>[0]) => {
      try {
        return alignRange(request, at, 2000);
      } catch (error) {
        return { field: (error as HistoryRangeError).field, reason: (error as HistoryRangeError).reason };
      }
    };
    expect(refusal({ to: 0, step: '1m' })).toEqual({ field: 'to', reason: 'must be after 0, the start of the first 1m bucket after the epoch' });
    expect(alignRange({ to: 30 * 60_000, step: '1m' }, at, 2000)).toEqual({ step: '1m', fromMs: 0, toMs: 30 * 60_000, buckets: 30 });
    // The first Vietnam day after the epoch starts at 17:00 UTC.
    expect(refusal({ from: 0, step: '1d' })).toEqual({ field: 'from', reason: 'its 1d bucket starts before the epoch (1970-01-01T00:00Z); at least 61200000 with step 1d' });
    expect(alignRange({ to: 3 * 86_400_000, step: '1d' }, at, 2000)).toMatchObject({ fromMs: 61_200_000, buckets: 3 });
    expect(refusal({ from: latestMs - 86_400_000, to: latestMs, step: '1d' })).toMatchObject({ field: 'to' });
    expect(alignRange({ from: latestMs - 3_600_000, to: latestMs, step: '1h' }, at, 2000)).toMatchObject({ toMs: latestMs, buckets: 1 });
  });

  it('answers any from, to and step inside [0, latest time] or refuses it naming from or to', () => {
    const time = fc.oneof(fc.integer({ min: 0, max: latestMs }), fc.integer({ min: 0, max: 4 * 86_400_000 }), fc.integer({ min: latestMs - 4 * 86_400_000, max: latestMs }));
    fc.assert(
      fc.property(fc.option(time, { nil: undefined }), fc.option(time, { nil: undefined }), fc.constantFrom(...throughputSteps), fc.integer({ min: 0, max: latestMs }), (from, to, step, now) => {
        let range;
        try {
          range = alignRange({ from, to, step }, now, 2000);
        } catch (error) {
          expect(error).toBeInstanceOf(HistoryRangeError);
          return;
        }
        expect(range.fromMs).toBeGreaterThanOrEqual(0);
        expect(range.toMs).toBeLessThanOrEqual(latestMs);
        expect(range.buckets).toBeGreaterThan(0);
        expect(fillSeries(range, new Map()).every((b) => b.start >= 0 && b.start < latestMs)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('fills the buckets with nothing stored with zeros, in order', () => {
    const range = alignRange({ from: Date.UTC(2026, 10, 23, 9, 0), to: Date.UTC(2026, 10, 23, 9, 3), step: '1m' }, at, 100);
    const stored = new Map([[Date.UTC(2026, 10, 23, 9, 1), { ...emptyMeasures, events: 5, trucksCrossed: 2 }]]);
    const buckets = fillSeries(range, stored);
    expect(buckets.map((b) => [b.start, b.events])).toEqual([
      [Date.UTC(2026, 10, 23, 9, 0), 0],
      [Date.UTC(2026, 10, 23, 9, 1), 5],
      [Date.UTC(2026, 10, 23, 9, 2), 0],
    ]);
    expect(buckets[0]).toMatchObject({ queueMean: null, clearanceP95Ms: null });
  });
});
