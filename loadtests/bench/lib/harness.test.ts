import { describe, expect, it } from 'vitest';
import { pooledRate } from './harness.ts';

describe('pooledRate: reference runs of equal work taken together', () => {
  it('is all the work over all the seconds, so a fast outlier moves it less than a mean of rates would', () => {
    // 600,000 rows in 2 s and in 6 s: 1.2M rows in 8 s.
    expect(pooledRate([300_000, 100_000])).toBe(150_000);
    expect(pooledRate([200_000, 200_000, 200_000, 200_000])).toBeCloseTo(200_000, 6);
    expect(pooledRate([160_000, 320_000])).toBeLessThan((160_000 + 320_000) / 2);
  });

  it('refuses no runs and rates that are not positive, rather than reporting a ratio of Infinity or NaN', () => {
    expect(() => pooledRate([])).toThrow(/positive rates/);
    expect(() => pooledRate([100, 0])).toThrow(/positive rates/);
    expect(() => pooledRate([Number.NaN])).toThrow(/positive rates/);
  });
});
