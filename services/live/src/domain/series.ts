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

/** The latest end a range may have: the schemas' maximum time (the last a JavaScript date holds). */
export const latestMs = 8_640_000_000_000;

/**
 * The buckets covering [from, to): `from` moves back to its bucket's start, `to` forward
 * to its bucket's end, so the current bucket is included. Without `to` the range ends
 * with the bucket of `now`; without `from` it holds `defaultBuckets[step]` buckets, or
 * fewer where they would start before the epoch. A range is never outside [0, latestMs]:
 * a `from` whose bucket starts before the epoch, or a `to` whose bucket ends after
 * `latestMs`, is refused, naming the field.
 */
export function alignRange(request: { from?: number; to?: number; step: ThroughputStep }, now: number, maxBuckets: number): BucketRange {
  const size = stepMs(request.step);
  /** The first bucket that starts at or after the epoch (a Vietnam day starts at 17:00 UTC). */
  const earliest = bucketStart(-1, request.step) + size;
  const toMs = bucketStart((request.to ?? now + 1) - 1, request.step) + size;
  if (toMs > latestMs) throw new HistoryRangeError('to', `its ${request.step} bucket ends after ${latestMs}, the latest time there is; at most ${bucketStart(latestMs, request.step)} with step ${request.step}`);
  if (request.from !== undefined && bucketStart(request.from, request.step) < 0) {
    throw new HistoryRangeError('from', `its ${request.step} bucket starts before the epoch (1970-01-01T00:00Z); at least ${earliest} with step ${request.step}`);
  }
  const fromMs = request.from === undefined ? Math.max(earliest, toMs - defaultBuckets[request.step] * size) : bucketStart(request.from, request.step);
  if (request.to !== undefined && request.from !== undefined && request.from >= request.to) throw new HistoryRangeError('from', `must be before to (${request.to})`);
  if (fromMs >= toMs) {
    if (request.from === undefined) throw new HistoryRangeError('to', `must be after ${earliest}, the start of the first ${request.step} bucket after the epoch`);
    throw new HistoryRangeError('from', `must be before to (${toMs}, the end of the last bucket)`);
  }
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
