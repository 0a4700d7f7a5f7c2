import { emptyMeasures, type ThroughputMeasures } from '@tower/shared';
import type { RawRow } from './rows.ts';
import { windowKey, type WindowChange } from './windows.ts';

/**
 * The figures a provisional tick estimates from a batch before it is stored: the ones
 * that add up (or take a maximum) row by row. The rest (mean queue, tonnes, the exact
 * quantiles) stay as the window's last confirmed tick said until the next one.
 */
export type Estimated = Pick<ThroughputMeasures, 'events' | 'trucksCrossed' | 'containersMoved' | 'teuMoved' | 'customsHolds' | 'queueMax' | 'laneOpenMinutes'>;
export const estimatedFields: readonly (keyof Estimated)[] = ['events', 'trucksCrossed', 'containersMoved', 'teuMoved', 'customsHolds', 'queueMax', 'laneOpenMinutes'];

const movedTypes = new Set(['container.discharged', 'container.loaded', 'container.gate-in', 'container.gate-out']);

/** What one raw row adds to its 1-minute window, as the materialized views of `throughput_1m` count it. */
export function contributionOf(row: RawRow): Estimated {
  const type = String(row['type']);
  const moved = movedTypes.has(type);
  return {
    events: 1,
    trucksCrossed: type === 'truck.border-crossed' ? 1 : 0,
    containersMoved: moved ? 1 : 0,
    teuMoved: moved ? Number(row['teu'] ?? 0) : 0,
    customsHolds: type === 'truck.customs-held' || (type === 'container.customs-status' && row['customs_status'] === 'hold') ? 1 : 0,
    queueMax: row['has_queue_length'] === 1 ? Number(row['queue_length']) : 0,
    laneOpenMinutes: Number(row['open_ms'] ?? 0) / 60_000,
  };
}

function add(into: Estimated, more: Estimated): void {
  into.events += more.events;
  into.trucksCrossed += more.trucksCrossed;
  into.containersMoved += more.containersMoved;
  into.teuMoved += more.teuMoved;
  into.customsHolds += more.customsHolds;
  into.queueMax = Math.max(into.queueMax, more.queueMax);
  into.laneOpenMinutes += more.laneOpenMinutes;
}

/** Rounded as `measuresOf` rounds the stored figures, so an exact estimate compares equal. */
function rounded(measures: ThroughputMeasures): ThroughputMeasures {
  return Object.assign({}, measures, { teuMoved: Math.round(measures.teuMoved * 100) / 100, laneOpenMinutes: Math.round(measures.laneOpenMinutes * 100) / 100 });
}

/** The window start (seconds) of a `windowKey`. */
const windowStartOf = (key: string) => Number(key.slice(key.lastIndexOf('|') + 1));

/** One decoded batch's live windows: what it adds to each, until a confirmed read holds it. */
export interface DecodedBatch {
  /** Per window, what the batch adds; a window leaves once a confirmed read is known to hold the batch. */
  readonly windows: Map<string, { change: WindowChange; adds: Estimated }>;
  stored: boolean;
}

/** A window's provisional figures, with its change (dimensions, newest ingest time). */
export interface ProvisionalWindow {
  change: WindowChange;
  measures: ThroughputMeasures;
}

/**
 * One confirmed round's read of the stored aggregates: the batches stored before it
 * began (the read holds them) and the windows some batch was in flight for while it ran
 * (decoded and not yet stored, or dropped): their stored figures may or may not hold it.
 */
export interface ConfirmingRead {
  readonly included: ReadonlySet<DecodedBatch>;
  readonly uncertain: Set<string>;
}

/** What a confirmed read of a window makes of it: the figures to publish (none: nothing to say) and whether they corrected an estimate. */
export interface Confirmation {
  measures?: ThroughputMeasures;
  corrected: boolean;
}

/**
 * The live windows' figures between their confirmed ticks: a base (the figures a
 * confirmed read gave) plus exactly the decoded batches (stored or not yet) that base
 * does not hold. A read settles a window when no batch of it was in flight while it ran:
 * its figures become the base and the batches stored before it leave the window. When
 * one was (its insert may have landed before or after the read), the read's figures are
 * published but the additive base stays the last settled one and no batch leaves: the
 * estimate never counts a batch twice nor leaves one out. A batch whose insert failed
 * is dropped (its retry is decoded again), and its windows are to be confirmed again
 * (`dropped` answers them): what was announced of it is withdrawn by a confirmed tick of
 * what is stored. A window this process has no base for and that began before it
 * started is left out: its stored figures are unknown (a restart, another member), and
 * an estimate from zero would flicker down on the wall.
 */
export class ProvisionalFigures {
  private readonly base = new Map<string, ThroughputMeasures>();
  private readonly batches = new Set<DecodedBatch>();
  private readonly reads = new Set<ConfirmingRead>();
  /** Windows with a provisional tick out since their last confirmed one. */
  private readonly announced = new Set<string>();
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly startedAt: number,
    /** Is a window ending at `windowEnd` (ms) still live at `now`? Older ones are forgotten. */
    private readonly isLive: (windowEnd: number, now: number) => boolean,
  ) {}

  /** Notes a decoded batch; answers the provisional figures of the windows it touches that can be estimated (to be published: they count as announced). */
  decoded(batch: DecodedBatch): ProvisionalWindow[] {
    this.batches.add(batch);
    this.inFlight(batch);
    const out: ProvisionalWindow[] = [];
    for (const [key, { change }] of batch.windows) {
      const base = this.baseOf(key);
      if (!base) continue;
      this.announced.add(key);
      out.push({ change, measures: this.estimate(key, base, () => true) });
    }
    return out;
  }

  /** A batch that will not be stored as decoded (its insert failed, its partition went elsewhere): its windows, to confirm again. */
  dropped(batch: DecodedBatch): WindowChange[] {
    if (!this.batches.delete(batch)) return [];
    this.inFlight(batch);
    return [...batch.windows.values()].map(({ change }) => change);
  }

  /** A confirmed round is about to read the stored aggregates; `endRead` when its figures are in. */
  beginRead(): ConfirmingRead {
    const read: ConfirmingRead = { included: new Set([...this.batches].filter((batch) => batch.stored)), uncertain: new Set() };
    for (const batch of this.batches) if (!batch.stored) for (const key of batch.windows.keys()) read.uncertain.add(key);
    this.reads.add(read);
    return read;
  }

  endRead(read: ConfirmingRead): void {
    this.reads.delete(read);
  }

  /**
   * The read found `stored` for the window `key` (undefined: no row of it is stored).
   * Answers what to publish as its confirmed figures, and whether they differ from the
   * estimate of the same batches (a correction, only known when the read settles it).
   */
  confirm(key: string, stored: ThroughputMeasures | undefined, read: ConfirmingRead, now: number): Confirmation {
    const announced = this.announced.delete(key);
    // A window of which nothing is stored gets a tick only where one of ours announced figures: it withdraws them.
    if (!stored && !announced) return { corrected: false };
    const measures = stored ?? emptyMeasures;
    const base = this.baseOf(key);
    if (read.uncertain.has(key)) {
      // Not settled: the additive figures keep excluding exactly the batches still held; the rest is as read.
      if (base) this.base.set(key, Object.assign({}, measures, Object.fromEntries(estimatedFields.map((field) => [field, base[field]]))));
      return { measures, corrected: false };
    }
    const touched = [...read.included].some((batch) => batch.windows.has(key));
    const estimate = touched && base ? this.estimate(key, base, (batch) => read.included.has(batch)) : undefined;
    this.base.set(key, measures);
    for (const batch of read.included) {
      batch.windows.delete(key);
      if (batch.windows.size === 0) this.batches.delete(batch);
    }
    if (now - this.prunedAt >= 60_000) this.prune(now);
    return { measures, corrected: estimate !== undefined && estimatedFields.some((field) => estimate[field] !== measures[field]) };
  }

  /** A batch in flight while reads run: their figures of its windows may or may not hold it. */
  private inFlight(batch: DecodedBatch): void {
    for (const read of this.reads) for (const key of batch.windows.keys()) read.uncertain.add(key);
  }

  private baseOf(key: string): ThroughputMeasures | undefined {
    return this.base.get(key) ?? (this.beganBeforeStart(key) ? undefined : emptyMeasures);
  }

  private beganBeforeStart(key: string): boolean {
    return windowStartOf(key) * 1000 + 60_000 <= this.startedAt;
  }

  private estimate(key: string, base: ThroughputMeasures, counts: (batch: DecodedBatch) => boolean): ThroughputMeasures {
    const sum: Estimated = Object.fromEntries(estimatedFields.map((field) => [field, base[field]])) as unknown as Estimated;
    for (const batch of this.batches) {
      const window = batch.windows.get(key);
      if (window && counts(batch)) add(sum, window.adds);
    }
    return rounded(Object.assign({}, base, sum));
  }

  /** Forgets the windows no longer live, and the batches' parts of them. */
  private prune(now: number): void {
    this.prunedAt = now;
    const gone = (key: string) => !this.isLive(windowStartOf(key) * 1000 + 60_000, now);
    for (const key of this.base.keys()) if (gone(key)) this.base.delete(key);
    for (const key of this.announced) if (gone(key)) this.announced.delete(key);
    for (const batch of this.batches) {
      for (const key of batch.windows.keys()) if (gone(key)) batch.windows.delete(key);
      if (batch.windows.size === 0) this.batches.delete(batch);
    }
  }
}

/** Adds one live event's row to a decoded batch. */
export function addToBatch(batch: DecodedBatch, change: WindowChange, row: RawRow): void {
  const key = windowKey(change);
  const window = batch.windows.get(key);
  const adds = contributionOf(row);
  if (window) {
    add(window.adds, adds);
    window.change.newestIngestedAt = Math.max(window.change.newestIngestedAt, change.newestIngestedAt);
  } else {
    batch.windows.set(key, { change, adds });
  }
}
