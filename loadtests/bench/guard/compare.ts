/**
 * The benchmark guard's judgement, plain TypeScript: each benchmark reports ratios of its
 * figure to a reference measured in the same run (these machines are noisy; a ratio
 * moves much less than a figure), and a ratio more than `tolerance` worse than its
 * baseline fails. "Worse" is lower for a throughput ratio (ingest / ProducerPerformance)
 * and higher for a latency ratio (gateway p99 / bare ws p99): a latency ratio is judged
 * by its inverse, so 25 % worse means the same on both kinds.
 */

/** One ratio as a benchmark reports it. */
export interface MeasuredRatio {
  /** `<benchmark>/<ratio>`, e.g. `ingest-throughput/ingest-vs-producer-performance`. */
  key: string;
  value: number;
  better: 'higher' | 'lower';
  /** What it is, in words, for the report. */
  meaning: string;
}

/**
 * One ratio per key: the median of the runs' (a run on a machine that something else
 * slowed for a moment moves one value, not the median), with every value kept for the
 * report. Runs that disagree on which way is better are refused.
 */
export function medianRatios(measured: readonly MeasuredRatio[]): (MeasuredRatio & { runs: number[] })[] {
  const byKey = new Map<string, MeasuredRatio[]>();
  for (const ratio of measured) byKey.set(ratio.key, [...(byKey.get(ratio.key) ?? []), ratio]);
  return [...byKey.values()].map((runs) => {
    const [first] = runs as [MeasuredRatio];
    if (runs.some((run) => run.better !== first.better)) throw new Error(`${first.key}: runs disagree on whether higher or lower is better`);
    const values = runs.map((run) => run.value).sort((a, b) => a - b);
    const middle = Math.floor(values.length / 2);
    const median = values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
    return { ...first, value: median, runs: runs.map((run) => run.value) };
  });
}

export interface Baseline {
  /** The machine the baseline was measured on (a baseline from another kind of machine says little). */
  machine: string;
  measuredAt: string;
  command: string;
  /** Why the baseline last moved. */
  reason: string;
  ratios: Record<string, { value: number; better: 'higher' | 'lower' }>;
}

export type Verdict = 'ok' | 'regressed' | 'improved' | 'new' | 'missing';

export interface Judged {
  key: string;
  meaning: string;
  baseline: number | null;
  measured: number | null;
  /** Change in the good direction as a fraction: +0.1 is 10 % better, −0.3 is 30 % worse. */
  change: number | null;
  verdict: Verdict;
}

/** How much better (positive) or worse (negative) `measured` is than `baseline`, as a fraction of the baseline's goodness. */
export function changeOf(baseline: number, measured: number, better: 'higher' | 'lower'): number {
  if (!(baseline > 0) || !(measured > 0)) throw new RangeError(`ratios must be positive (baseline ${baseline}, measured ${measured})`);
  return better === 'higher' ? measured / baseline - 1 : baseline / measured - 1;
}

/**
 * Every ratio of the baseline and of the run, judged: `regressed` when more than
 * `tolerance` worse, `improved` when more than `tolerance` better (time to move the
 * baseline, in a commit that says why), `missing` when the baseline has a ratio the run
 * did not report (a benchmark that failed or was renamed: the guard fails), `new` when
 * the run reports one the baseline lacks.
 */
export function judge(baseline: Baseline, measured: readonly MeasuredRatio[], tolerance = 0.25): Judged[] {
  const byKey = new Map(measured.map((ratio) => [ratio.key, ratio]));
  const judged: Judged[] = Object.entries(baseline.ratios).map(([key, base]) => {
    const run = byKey.get(key);
    if (!run) return { key, meaning: '', baseline: base.value, measured: null, change: null, verdict: 'missing' };
    if (run.better !== base.better) throw new Error(`${key}: the baseline says ${base.better} is better, the benchmark ${run.better}`);
    const change = changeOf(base.value, run.value, run.better);
    const verdict: Verdict = change < -tolerance ? 'regressed' : change > tolerance ? 'improved' : 'ok';
    return { key, meaning: run.meaning, baseline: base.value, measured: run.value, change, verdict };
  });
  for (const run of measured) if (!(run.key in baseline.ratios)) judged.push({ key: run.key, meaning: run.meaning, baseline: null, measured: run.value, change: null, verdict: 'new' });
  return judged;
}

/**
 * The benchmarks to run again before the guard says a ratio regressed: those with a ratio
 * more than `tolerance` worse than its baseline (a missing ratio is a failed benchmark,
 * not noise, and is not confirmed).
 */
export function toConfirm(baseline: Baseline, measured: readonly MeasuredRatio[], benchmarks: readonly string[], tolerance = 0.25): string[] {
  const regressed = judge(baseline, measured, tolerance).filter((row) => row.verdict === 'regressed');
  return benchmarks.filter((name) => regressed.some((row) => row.key.startsWith(`${name}/`)));
}

export const failed = (judged: readonly Judged[]) => judged.some((row) => row.verdict === 'regressed' || row.verdict === 'missing');

/** The report as a Markdown table (pasted into docs/BENCHMARKS.md as it is). */
export function reportTable(judged: readonly Judged[]): string[] {
  const figure = (value: number | null) => (value === null ? '—' : value.toPrecision(3));
  const percent = (change: number | null) => (change === null ? '—' : `${change >= 0 ? '+' : '−'}${Math.abs(change * 100).toFixed(0)} %`);
  return [
    '| ratio | what | baseline | this run | change (+ better) | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
    ...judged.map((row) => `| ${row.key} | ${row.meaning} | ${figure(row.baseline)} | ${figure(row.measured)} | ${percent(row.change)} | ${row.verdict} |`),
  ];
}
