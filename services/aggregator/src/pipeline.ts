import { batchHandled, JourneyTracker, journeyView, type ConsumedEvent, type HandlerOutcome, type JourneyView, type ConsumerHandler, type LaneEvent, type Logger, type PartitionBatch, type SiteCatalog, type TruckEvent } from '@tower/shared';
import type { SpanContext } from '@tower/shared/tracing';
import { LaneOpenTracker } from './domain/lanes.ts';
import { RecentIds } from './domain/recent-ids.ts';
import { dimensionsOf, noDerived, partitionDayOf, rawRowOf, type Derived, type Dimensions, type RawRow, type RowSource } from './domain/rows.ts';
import { RowRefused, type EncodedRows, type Refusal } from './native-block.ts';
import type { LiveJourneys } from './domain/live-journeys.ts';
import type { LiveWindows } from './domain/windows.ts';
import type { AggregatorMetrics } from './metrics.ts';
import type { EventStore } from './store.ts';

/** Everything the pipeline knows about one partition; rebuilt from ClickHouse when in doubt. */
interface PartitionState {
  maxOffset: bigint;
  recentIds: RecentIds;
  journeys: JourneyTracker;
  lanes: LaneOpenTracker;
}

export interface PipelineSettings {
  /** Event ids remembered per partition to drop re-sent events. */
  dedupWindowEvents: number;
}

/** Where stored events leave their live traces: changed windows and journeys, and who publishes them. */
export interface LiveChanges {
  windows: LiveWindows;
  journeys: LiveJourneys;
  /** Called after a batch's inserts noted changes: the publisher starts a round (and links it to the batch's span, if it has one). */
  changed(trace?: SpanContext): void;
  /** A batch from `source` (`topic:partition`) is decoded, before its insert: its provisional figures are published at once. */
  decoded(source: string, rows: readonly RawRow[]): void;
  /** The batch last decoded from `source` is stored (a batch decoded again from the source replaces one never stored). */
  stored(source: string): void;
  /** The batch last decoded from `source` failed (it is retried, split or dead-lettered): its provisional figures are withdrawn. */
  failed(source: string): void;
  /** A new group generation: `owned` are the sources this member reads now; the unstored batches of the others are withdrawn. */
  assigned(owned: ReadonlySet<string>): void;
}

/**
 * Kafka batches into ClickHouse with exactly-once effect. Per partition: skip what is
 * already stored (offset ≤ the highest stored offset), drop re-sent event ids, derive
 * journey and lane figures, insert in runs that never span two raw-table partitions
 * (one part each: all or nothing), and only then let the runner commit. The state is
 * loaded from ClickHouse the first time a partition is seen in a group generation and
 * thrown away after any failure, so it always equals what the stored rows say.
 */
export class AggregationPipeline implements ConsumerHandler {
  private readonly partitions = new Map<string, PartitionState>();
  /** Per family, the refused event whose column types were last read again (the runner's split refuses it at each step). */
  private readonly typesReadFor = new Map<ConsumedEvent['family'], string>();

  constructor(
    private readonly store: EventStore,
    private readonly catalog: SiteCatalog,
    private readonly live: LiveChanges,
    private readonly metrics: AggregatorMetrics,
    private readonly settings: PipelineSettings,
    private readonly logger: Logger,
  ) {}

  onAssignment(assignment: Record<string, number[]>): void {
    // Another member may have written to any partition since we last held it.
    this.partitions.clear();
    this.live.assigned(new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => `${topic}:${partition}`))));
  }

  /** A ClickHouse error is let through: the runner classifies it (a refused row is poison, a server away is retried). */
  async handleBatch(batch: PartitionBatch): Promise<HandlerOutcome> {
    const key = `${batch.topic}:${batch.partition}`;
    const family = batch.events[0]?.family;
    if (!family) return batchHandled;
    await this.store.repairPending();
    const state = this.partitions.get(key) ?? (await this.load(batch, family));
    this.partitions.set(key, state);
    try {
      await this.apply(batch, family, state);
    } catch (error) {
      this.partitions.delete(key);
      this.live.failed(key);
      throw error;
    }
    return batchHandled;
  }

  private async load(batch: PartitionBatch, family: ConsumedEvent['family']): Promise<PartitionState> {
    const started = performance.now();
    const stored = await this.store.loadPartition(family, batch.topic, batch.partition, this.settings.dedupWindowEvents);
    const state: PartitionState = { maxOffset: stored.maxOffset, recentIds: new RecentIds(this.settings.dedupWindowEvents), journeys: new JourneyTracker(), lanes: new LaneOpenTracker() };
    for (const id of stored.recentIds) state.recentIds.add(id);
    for (const event of stored.replay) {
      if (family === 'truck') state.journeys.apply(event as TruckEvent);
      else state.lanes.apply(event as LaneEvent);
    }
    this.logger.info({ topic: batch.topic, partition: batch.partition, maxOffset: String(stored.maxOffset), replayed: stored.replay.length, ms: Math.round(performance.now() - started) }, 'partition state loaded from ClickHouse');
    return state;
  }

  private async apply(batch: PartitionBatch, family: ConsumedEvent['family'], state: PartitionState): Promise<void> {
    const runs: { day: number; rows: EncodedRows<RowSource>; events: ConsumedEvent[]; dimensions: Dimensions[]; journeys: (JourneyView | undefined)[]; lastOffset: bigint }[] = [];
    const now = Date.now();
    // One source for every row: its columns are read as it is written.
    const row = {} as RowSource;
    // The live events' rows as objects, for the provisional figures (a backlog has few).
    const liveRows: RawRow[] = [];
    let skipped = 0;
    let duplicates = 0;
    for (const consumed of batch.events) {
      if (consumed.offset <= state.maxOffset) {
        skipped += 1;
        continue;
      }
      if (state.recentIds.has(consumed.event.eventId)) {
        duplicates += 1;
        continue;
      }
      state.recentIds.add(consumed.event.eventId);
      const { derived, journey } = this.derive(consumed, state, now);
      const day = partitionDayOf(consumed.event.observedAt);
      let run = runs.at(-1);
      if (!run || run.day !== day) runs.push((run = { day, rows: await this.store.rows(family), events: [], dimensions: [], journeys: [], lastOffset: consumed.offset }));
      const dimensions = dimensionsOf(consumed.event, this.catalog);
      const refusal = run.rows.add(Object.assign(row, { consumed, dimensions, derived }), consumed.event.site, consumed.event.observedAt);
      if (refusal) throw await this.refused(family, consumed, refusal);
      if (this.live.windows.isLive(consumed.event.observedAt, now)) liveRows.push(rawRowOf(consumed, dimensions, derived));
      run.events.push(consumed);
      run.dimensions.push(dimensions);
      run.journeys.push(journey);
      run.lastOffset = consumed.offset;
    }
    const source = `${batch.topic}:${batch.partition}`;
    if (runs.length > 0) this.live.decoded(source, liveRows);
    for (const run of runs) {
      const started = performance.now();
      await this.store.insert(family, run.rows);
      this.metrics.insertSeconds.observe({ table: family }, (performance.now() - started) / 1000);
      this.metrics.batchRows.observe({ table: family }, run.rows.count);
      this.metrics.rowsWritten.inc({ table: family }, run.rows.count);
      state.maxOffset = run.lastOffset;
      const storedAt = Date.now();
      run.events.forEach((consumed, i) => {
        const { lane, direction, laneKind } = run.dimensions[i]!;
        const late = this.live.windows.note({ source, site: consumed.event.site, lane, direction, laneKind, observedAt: consumed.event.observedAt, ingestedAt: consumed.ingestedAt }, storedAt);
        if (late) this.metrics.lateEvents.inc({ topic: batch.topic });
        const journey = run.journeys[i];
        if (journey) this.live.journeys.note(journey, consumed.ingestedAt);
      });
    }
    if (runs.length > 0) {
      this.live.stored(source);
      this.live.changed(batch.trace);
    }
    if (skipped > 0) this.metrics.alreadyStored.inc({ topic: batch.topic }, skipped);
    if (duplicates > 0) this.metrics.duplicates.inc({ topic: batch.topic }, duplicates);
  }

  /**
   * An event with a value its column cannot hold (as the server's column types stand):
   * nothing of the batch is inserted, and the error is what ClickHouse's own refusal
   * would be, permanent: the runner splits the batch down to the event and dead-letters
   * it with this detail, the rest is stored. If the column types changed meanwhile (an
   * operator altered the column to take such values), the batch is retried instead,
   * encoded for the new types. The types are read again once per refused event, not at
   * each step of the split.
   */
  private async refused(family: ConsumedEvent['family'], consumed: ConsumedEvent, refusal: Refusal): Promise<Error> {
    const what = `${consumed.event.type} event ${consumed.event.eventId} (${consumed.topic}[${consumed.partition}]@${consumed.offset})`;
    // Once per refused event: each step of the split that isolates it is refused alike.
    if (this.typesReadFor.get(family) === what) return new RowRefused(refusal, what);
    this.typesReadFor.set(family, what);
    if (await this.store.columnTypesChanged(family)) return Object.assign(new Error(`the column types of ${family} events changed on the server: encoding ${what} again`), { retriable: true });
    return new RowRefused(refusal, what);
  }

  /** The figures stored on the event's row; for a live truck event, its journey as it stands after it. */
  private derive(consumed: ConsumedEvent, state: PartitionState, now: number): { derived: Derived; journey?: JourneyView } {
    if (consumed.family === 'truck') {
      const { journey, figures } = state.journeys.advance(consumed.event as TruckEvent);
      const derived = { ...figures, openMs: 0 };
      return this.live.windows.isLive(consumed.event.observedAt, now) ? { derived, journey: journeyView(journey) } : { derived };
    }
    if (consumed.family === 'lane') return { derived: { ...noDerived, openMs: state.lanes.apply(consumed.event as LaneEvent) } };
    return { derived: noDerived };
  }
}
