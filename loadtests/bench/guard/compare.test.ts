import { describe, expect, it } from 'vitest';
import { changeOf, failed, judge, medianRatios, reportTable, toConfirm, type Baseline, type MeasuredRatio } from './compare.ts';

const baseline: Baseline = {
  machine: 'test',
  measuredAt: '2026-11-30',
  command: 'npm run bench',
  reason: 'first',
  ratios: {
    'ingest-throughput/ingest-vs-producer-performance': { value: 0.24, better: 'higher' },
    'live-fanout/p99-vs-bare-ws': { value: 2.0, better: 'lower' },
  },
};
const ratio = (key: string, value: number, better: 'higher' | 'lower'): MeasuredRatio => ({ key, value, better, meaning: key });

describe('the benchmark guard', () => {
  it('judges a throughput ratio by its value and a latency ratio by its inverse', () => {
    expect(changeOf(0.24, 0.18, 'higher')).toBeCloseTo(-0.25);
    expect(changeOf(2, 4, 'lower')).toBeCloseTo(-0.5); // twice the latency is half as good
    expect(changeOf(2, 1, 'lower')).toBeCloseTo(1);
    expect(() => changeOf(0, 1, 'higher')).toThrow(RangeError);
  });

  it('fails a ratio more than 25 % worse than its baseline, in either kind, and passes one within', () => {
    const within = judge(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.19, 'higher'), ratio('live-fanout/p99-vs-bare-ws', 2.6, 'lower')]);
    expect(within.map((row) => row.verdict)).toEqual(['ok', 'ok']);
    expect(failed(within)).toBe(false);
    const slower = judge(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.17, 'higher'), ratio('live-fanout/p99-vs-bare-ws', 2.0, 'lower')]);
    expect(slower.map((row) => row.verdict)).toEqual(['regressed', 'ok']);
    expect(failed(slower)).toBe(true);
    const laggier = judge(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.24, 'higher'), ratio('live-fanout/p99-vs-bare-ws', 2.8, 'lower')]);
    expect(laggier.map((row) => row.verdict)).toEqual(['ok', 'regressed']);
  });

  it('fails when a baselined ratio is not reported, says which are new and which improved enough to move the baseline', () => {
    const judged = judge(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.4, 'higher'), ratio('slot-bookings/bookings-vs-redis-set', 0.05, 'higher')]);
    expect(judged.map((row) => [row.key, row.verdict])).toEqual([
      ['ingest-throughput/ingest-vs-producer-performance', 'improved'],
      ['live-fanout/p99-vs-bare-ws', 'missing'],
      ['slot-bookings/bookings-vs-redis-set', 'new'],
    ]);
    expect(failed(judged)).toBe(true);
    expect(reportTable(judged)[2]).toBe('| ingest-throughput/ingest-vs-producer-performance | ingest-throughput/ingest-vs-producer-performance | 0.240 | 0.400 | +67 % | improved |');
  });

  it('runs again only the benchmarks with a regressed ratio, not a failed one or one within the tolerance', () => {
    const names = ['ingest-throughput', 'live-fanout', 'slot-bookings'];
    expect(toConfirm(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.17, 'higher'), ratio('live-fanout/p99-vs-bare-ws', 2.6, 'lower')], names)).toEqual(['ingest-throughput']);
    expect(toConfirm(baseline, [ratio('live-fanout/p99-vs-bare-ws', 2.7, 'lower')], names)).toEqual(['live-fanout']);
    expect(toConfirm(baseline, [ratio('ingest-throughput/ingest-vs-producer-performance', 0.3, 'higher')], names)).toEqual([]);
  });

  it('takes the median of repeated runs per ratio, so one slowed run does not decide, and keeps every value', () => {
    const runs = [0.24, 0.11, 0.25].map((value) => ratio('ingest-throughput/ingest-vs-producer-performance', value, 'higher'));
    const fanout = [2.0, 2.4].map((value) => ratio('live-fanout/p99-vs-bare-ws', value, 'lower'));
    expect(medianRatios([...runs, ...fanout]).map(({ key, value, runs: values }) => [key, value, values])).toEqual([
      ['ingest-throughput/ingest-vs-producer-performance', 0.24, [0.24, 0.11, 0.25]],
      ['live-fanout/p99-vs-bare-ws', 2.2, [2.0, 2.4]],
    ]);
    expect(failed(judge(baseline, medianRatios([...runs, ...fanout])))).toBe(false);
    expect(() => medianRatios([...runs, ratio('ingest-throughput/ingest-vs-producer-performance', 1, 'lower')])).toThrow(/disagree/);
  });

  it('refuses a ratio whose better direction differs from the baseline’s (a renamed or redefined ratio)', () => {
    expect(() => judge(baseline, [ratio('live-fanout/p99-vs-bare-ws', 2, 'higher')])).toThrow(/lower is better/);
  });
});
