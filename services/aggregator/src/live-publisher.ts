import type { JourneyUpdate, Logger, ThroughputMeasures, ThroughputTick, TowerProducer } from '@tower/shared';
import { endSpan, SpanKind, traceHeadersOf, type SpanContext, type TraceHeaders, type Tracing } from '@tower/shared/tracing';
import type { LiveJourneys } from './domain/live-journeys.ts';
import { addToBatch, ProvisionalFigures, type DecodedBatch } from './domain/provisional.ts';
import type { RawRow } from './domain/rows.ts';
import { windowKey, type LiveWindows, type WindowChange } from './domain/windows.ts';
import type { AggregatorMetrics } from './metrics.ts';
import type { EventStore } from './store.ts';

export interface LiveTopics {
  throughput: string;
  journeys: string;
}

/**
 * Publishes what stored events changed: the 1-minute windows as throughput ticks (their
 * figures read back from the stored aggregates, so a tick never disagrees with the
 * history, whatever restarts or other members did) and the journeys as journey updates.
 * A round starts as soon as an insert asks for it (`request()`), at most one at a time
 * and at least `minIntervalMs` after the previous one: under load the changes of several
 * inserts share a round; when quiet, a change is on Kafka one round trip after its
 * insert. A round that fails puts its changes back and is retried after `retryMs`.
 *
 * Provisional figures: as soon as a batch is decoded (before its insert), the windows it
 * touches are published at once as ticks flagged `provisional`, their figures estimated
 * in memory (ProvisionalFigures: the last settled confirmed figures plus exactly the
 * batches they do not hold); the confirmed tick of the round after the insert replaces
 * them (and is counted as a correction when the estimate of the same batches differed
 * from the stored figures). A batch that is not stored (its insert failed or was refused,
 * its partition went to another member) leaves the estimates, and its windows get a
 * confirmed tick of what is stored, an empty one if nothing is. Both go to the same partition (key `site/lane`) from one idempotent
 * producer, so a window's provisional tick is never behind its confirmed one on Kafka.
 *
 * Where tracing is on, a round that carries the changes of traced batches is a span
 * linked to each batch's span, and its ticks and journey updates carry its
 * `traceparent`: the gateway's delivery links to it.
 */
export class LivePublisher {
  private round: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  private requestedDuringRound = false;
  private stopped = false;
  /** The spans of the traced batches whose changes wait for the next round (the first `maxLinks`: a span keeps no more by default). */
  private traces: SpanContext[] = [];
  private static readonly maxLinks = 128;
  private readonly provisional: ProvisionalFigures;
  /** Per source (`topic:partition`), the batch decoded and not yet stored (one at a time: a partition's batches are handled in turn). */
  private readonly unstored = new Map<string, DecodedBatch>();
  private readonly provisionalSends = new Set<Promise<void>>();

  constructor(
    private readonly windows: LiveWindows,
    private readonly journeys: LiveJourneys,
    private readonly store: EventStore,
    private readonly producer: TowerProducer,
    private readonly topics: LiveTopics,
    private readonly metrics: AggregatorMetrics,
    private readonly logger: Logger,
    private readonly minIntervalMs: number,
    private readonly retryMs = 1000,
    private readonly tracing?: Tracing,
  ) {
    this.provisional = new ProvisionalFigures(Date.now(), (windowEnd, now) => windows.isLive(windowEnd, now));
  }

  /**
   * A batch from `source` is decoded (its raw rows, before the insert): publishes the
   * provisional figures of its live windows at once. A batch decoded again from the
   * same source replaces one whose insert failed.
   */
  decoded(source: string, rows: readonly RawRow[]): void {
    this.failed(source);
    const now = Date.now();
    const batch: DecodedBatch = { windows: new Map(), stored: false };
    for (const row of rows) {
      const observedAt = Number(row['observed_ms']);
      if (!this.windows.isLive(observedAt, now)) continue;
      const change = { site: String(row['site']), lane: String(row['lane']), direction: String(row['direction']), laneKind: String(row['lane_kind']), windowStart: Math.floor(observedAt / 60_000) * 60, newestIngestedAt: Number(row['ingested_ms']), late: false };
      addToBatch(batch, change, row);
    }
    if (batch.windows.size === 0) return;
    this.unstored.set(source, batch);
    const ticks = this.provisional.decoded(batch).map(({ change, measures }) => this.tickOf(change, measures, now, true));
    if (ticks.length === 0 || this.stopped) return;
    const sent = this.producer
      .send([{ topic: this.topics.throughput, messages: ticks.map((tick) => ({ key: `${tick.site}/${tick.lane}`, value: JSON.stringify(tick) })) }])
      .then(
        () => void this.metrics.provisionalTicks.inc(ticks.length),
        (error: unknown) => this.logger.warn({ err: error, windows: ticks.length }, 'provisional ticks not sent; the confirmed ones follow'),
      )
      .finally(() => this.provisionalSends.delete(sent));
    this.provisionalSends.add(sent);
  }

  /** The batch last decoded from `source` is stored: the next confirmed round includes it. */
  stored(source: string): void {
    const batch = this.unstored.get(source);
    if (!batch) return;
    batch.stored = true;
    this.unstored.delete(source);
  }

  /**
   * The batch last decoded from `source` was not stored (its insert failed or was
   * refused: it is retried, split, dead-lettered): it leaves the estimates, and its
   * windows get a confirmed tick of what is stored, for the events its provisional ticks
   * showed (so a figure whose events never get stored does not stay on the wall).
   */
  failed(source: string): void {
    const batch = this.unstored.get(source);
    if (!batch) return;
    this.unstored.delete(source);
    this.withdraw(batch);
  }

  /** A new assignment (`owned`: the sources this member reads now): the batches not stored of the others are withdrawn as if failed. */
  assigned(owned: ReadonlySet<string>): void {
    for (const source of [...this.unstored.keys()]) if (!owned.has(source)) this.failed(source);
  }

  private withdraw(batch: DecodedBatch): void {
    const changes = this.provisional.dropped(batch);
    if (changes.length === 0) return;
    this.windows.restore(changes.map((change) => ({ ...change, late: false })));
    this.request();
  }

  /** Something changed (in a traced batch: `trace`, its span): publish it as soon as the spacing allows. */
  request(trace?: SpanContext): void {
    if (trace && this.tracing && this.traces.length < LivePublisher.maxLinks) this.traces.push(trace);
    if (this.stopped) return;
    if (this.round) {
      this.requestedDuringRound = true;
      return;
    }
    this.schedule(Math.max(0, this.lastRoundAt + this.minIntervalMs - Date.now()));
  }

  /**
   * Windows rebuilt from the raw rows (AggregateRepair, `throughput_1m`'s columns): each
   * one still live is read again and published as a correction, like a late event's.
   */
  correct(rebuilt: readonly Readonly<Record<string, string | number>>[]): void {
    const now = Date.now();
    const changes = rebuilt
      .map((w) => ({ site: String(w['site']), lane: String(w['lane']), direction: String(w['direction']), laneKind: String(w['lane_kind']), windowStart: Number(w['window_start']), newestIngestedAt: now, late: true }))
      .filter((change) => this.windows.isLive(change.windowStart * 1000, now));
    if (changes.length === 0) return;
    this.windows.restore(changes);
    this.request();
  }

  /** No more rounds; publishes what is still pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
    await Promise.all(this.provisionalSends);
    await this.publish();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRoundAt = Date.now();
      this.round = this.publish().then((ok) => {
        this.round = undefined;
        if (!ok) this.schedule(this.retryMs);
        else if (this.requestedDuringRound) this.request();
        this.requestedDuringRound = false;
      });
    }, delayMs);
  }

  /** One round; false when it failed (its changes are back in line). */
  async publish(): Promise<boolean> {
    const changes = this.windows.drain();
    const journeys = this.journeys.drain();
    if (changes.length === 0 && journeys.length === 0) return true;
    const traces = this.traces;
    this.traces = [];
    const span = traces.length > 0 ? this.tracing?.startSpan('publish live ticks', { kind: SpanKind.PRODUCER, links: traces.map((context) => ({ context })), attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'send' } }) : undefined;
    try {
      const ticks = await this.ticksOf(changes);
      const publishedAt = Date.now();
      const updates: JourneyUpdate[] = journeys.map(({ journey, newestIngestedAt }) => Object.assign({}, journey, { newestIngestedAt, publishedAt }));
      const headers: TraceHeaders | undefined = span && traceHeadersOf(span.spanContext());
      await this.producer.send([
        { topic: this.topics.throughput, messages: ticks.map((tick) => ({ key: `${tick.site}/${tick.lane}`, value: JSON.stringify(tick), headers })) },
        { topic: this.topics.journeys, messages: updates.map((update) => ({ key: update.plate, value: JSON.stringify(update), headers })) },
      ].filter((batch) => batch.messages.length > 0));
      span?.setAttributes({ 'tower.ticks': ticks.length, 'tower.journey_updates': updates.length });
      if (span) endSpan(span);
      this.metrics.ticksPublished.inc(ticks.length);
      this.metrics.journeyUpdatesPublished.inc(updates.length);
      this.metrics.watermark.set(Math.max(0, this.windows.watermark(publishedAt) / 1000));
      return true;
    } catch (error) {
      this.windows.restore(changes);
      this.journeys.restore(journeys);
      this.traces = [...traces, ...this.traces].slice(0, LivePublisher.maxLinks);
      if (span) endSpan(span, error);
      this.metrics.tickFailures.inc();
      this.logger.warn({ err: error, windows: changes.length, journeys: journeys.length }, 'live round failed; retrying');
      return false;
    }
  }

  /** The confirmed ticks of `changes`, read from the stored aggregates; the provisional estimates settle on what the read holds. */
  private async ticksOf(changes: readonly WindowChange[]): Promise<ThroughputTick[]> {
    if (changes.length === 0) return [];
    const read = this.provisional.beginRead();
    try {
      const stored = await this.store.windows(changes);
      const byKey = new Map(stored.map((w) => [windowKey(w), w]));
      const publishedAt = Date.now();
      const ticks: ThroughputTick[] = [];
      for (const change of changes) {
        const { measures, corrected } = this.provisional.confirm(windowKey(change), byKey.get(windowKey(change))?.measures, read, publishedAt);
        if (corrected) this.metrics.provisionalCorrections.inc();
        if (measures) ticks.push(this.tickOf(change, measures, publishedAt, false));
      }
      return ticks;
    } finally {
      this.provisional.endRead(read);
    }
  }

  private tickOf(change: WindowChange, measures: ThroughputMeasures, publishedAt: number, provisional: boolean): ThroughputTick {
    const final = this.windows.isFinal(change.windowStart, publishedAt);
    return Object.assign(
      {
        site: change.site,
        lane: change.lane,
        direction: change.direction,
        laneKind: change.laneKind,
        windowStart: change.windowStart * 1000,
        windowEnd: change.windowStart * 1000 + 60_000,
        final,
        correction: provisional ? final : change.late,
      },
      measures,
      { newestIngestedAt: change.newestIngestedAt, publishedAt, provisional },
    );
  }
}
