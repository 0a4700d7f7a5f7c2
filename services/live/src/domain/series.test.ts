import { describe, expect, it } from 'vitest';
import { emptyMeasures } from '@tower/shared';
import { alignRange, bucketStart, fillSeries, HistoryRangeError } from './series.ts';

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
