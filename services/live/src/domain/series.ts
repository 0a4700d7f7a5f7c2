import { emptyMeasures, stepSeconds, vietnamOffsetSeconds, type ThroughputMeasures, type ThroughputStep } from '@tower/shared';

/**
 * Throughput history as operators read it: a range cut into equal buckets (days are
 * Vietnam days), every bucket present even when nothing happened in it.
 */
export interface BucketRange {
  step: ThroughputStep;
  /** ms since the epoch, the first bucket's start. */
  fromMs: number;
  /** ms, exclusive: the end of the last bucket. */
  toMs: number;
  buckets: number;
}

/** How much history a request without `from` gets, in buckets of its step. */
export const defaultBuckets: Readonly<Record<ThroughputStep, number>> = { '1m': 60, '5m': 72, '1h': 48, '1d': 30 };

export class HistoryRangeError extends Error {
  constructor(
    readonly field: 'from' | 'to',
    readonly reason: string,
  ) {
    super(`${field} ${reason}`);
  }
}

const stepMs = (step: ThroughputStep) => stepSeconds[step] * 1000;
const offsetMs = (step: ThroughputStep) => (step === '1d' ? vietnamOffsetSeconds * 1000 : 0);

/** The start of the bucket that holds `ms`. */
export function bucketStart(ms: number, step: ThroughputStep): number {
  const size = stepMs(step);
  const offset = offsetMs(step);
  return Math.floor((ms + offset) / size) * size - offset;
}

/**
 * The buckets covering [from, to): `from` moves back to its bucket's start, `to` forward
 * to its bucket's end, so the current bucket is included. Without `to` the range ends
 * with the bucket of `now`; without `from` it holds `defaultBuckets[step]` buckets.
 */
export function alignRange(request: { from?: number; to?: number; step: ThroughputStep }, now: number, maxBuckets: number): BucketRange {
  const size = stepMs(request.step);
  const toMs = bucketStart((request.to ?? now + 1) - 1, request.step) + size;
  const fromMs = request.from === undefined ? toMs - defaultBuckets[request.step] * size : bucketStart(request.from, request.step);
  if (request.to !== undefined && request.from !== undefined && request.from >= request.to) throw new HistoryRangeError('from', `must be before to (${request.to})`);
  if (fromMs >= toMs) throw new HistoryRangeError('from', `must be before to (${toMs}, the end of the last bucket)`);
  const buckets = (toMs - fromMs) / size;
  if (buckets > maxBuckets) {
    throw new HistoryRangeError('from', `the range holds ${buckets} buckets of ${request.step}; at most ${maxBuckets}: narrow the range or take a coarser step`);
  }
  return { step: request.step, fromMs, toMs, buckets };
}

export interface Bucket extends ThroughputMeasures {
  /** ms since the epoch. */
  start: number;
}

/** Every bucket of the range in order, the stored ones with their figures, the rest empty. */
export function fillSeries(range: BucketRange, stored: ReadonlyMap<number, ThroughputMeasures>): Bucket[] {
  const size = stepMs(range.step);
  return Array.from({ length: range.buckets }, (_, i) => {
    const start = range.fromMs + i * size;
    return { start, ...(stored.get(start) ?? emptyMeasures) };
  });
}
