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

/** One decoded batch's live windows: what it adds to each, until its confirmed round. */
export interface DecodedBatch {
  readonly windows: Map<string, { change: WindowChange; adds: Estimated }>;
  stored: boolean;
}

/** A window's provisional figures, with its change (dimensions, newest ingest time). */
export interface ProvisionalWindow {
  change: WindowChange;
  measures: ThroughputMeasures;
}

/**
 * The live windows' figures between their confirmed ticks: the last confirmed figures of
 * each window plus what the batches decoded since (stored or not yet) add to them. A
 * batch's additions leave once a confirmed round read the window after the batch was
 * stored (the stored aggregates then hold them); a batch whose insert failed is dropped
 * (its retry is decoded again). A window this process has no confirmed figures for and
 * that began before it started is left out: its stored figures are unknown (a restart,
 * another member), and an estimate from zero would flicker down on the wall.
 */
export class ProvisionalFigures {
  private readonly confirmed = new Map<string, ThroughputMeasures>();
  private readonly batches = new Set<DecodedBatch>();

  constructor(
    private readonly startedAt: number,
    /** Is a window ending at `windowEnd` (ms) still live at `now`? Older ones are forgotten. */
    private readonly isLive: (windowEnd: number, now: number) => boolean,
  ) {}

  /** Notes a decoded batch; answers the provisional figures of the windows it touches that can be estimated. */
  decoded(batch: DecodedBatch): ProvisionalWindow[] {
    this.batches.add(batch);
    const out: ProvisionalWindow[] = [];
    for (const [key, { change }] of batch.windows) {
      const base = this.confirmed.get(key);
      if (!base && this.beganBeforeStart(key)) continue;
      out.push({ change, measures: this.estimate(key, base ?? emptyMeasures, () => true) });
    }
    return out;
  }

  dropped(batch: DecodedBatch): void {
    this.batches.delete(batch);
  }

  /** The batches stored so far: a round starting now reads their rows. */
  storedBatches(): DecodedBatch[] {
    return [...this.batches].filter((batch) => batch.stored);
  }

  /**
   * A confirmed round read `measures` for the window `key` after the batches `included`
   * were stored: says whether the estimate of those batches differed from it (a
   * correction), and makes `measures` the window's base.
   */
  confirm(key: string, measures: ThroughputMeasures, included: ReadonlySet<DecodedBatch>, now: number): boolean {
    const touched = [...included].some((batch) => batch.windows.has(key));
    const base = this.confirmed.get(key);
    const estimate = touched && (base || !this.beganBeforeStart(key)) ? this.estimate(key, base ?? emptyMeasures, (batch) => included.has(batch)) : undefined;
    this.confirmed.set(key, measures);
    if (this.confirmed.size % 256 === 0) this.prune(now);
    return estimate !== undefined && estimatedFields.some((field) => estimate[field] !== measures[field]);
  }

  /** Forgets the batches a successful confirmed round included. */
  settle(included: ReadonlySet<DecodedBatch>): void {
    for (const batch of included) this.batches.delete(batch);
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

  private prune(now: number): void {
    for (const key of this.confirmed.keys()) if (!this.isLive(windowStartOf(key) * 1000 + 60_000, now)) this.confirmed.delete(key);
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
