import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The aggregator's own figures; the consumer runner adds lag, dead letters and batch failures. */
export class AggregatorMetrics {
  readonly rowsWritten: Counter<'table'>;
  readonly insertSeconds: Histogram<'table'>;
  readonly batchRows: Histogram<'table'>;
  readonly duplicates: Counter<'topic'>;
  readonly alreadyStored: Counter<'topic'>;
  readonly lateEvents: Counter<'topic'>;
  readonly ticksPublished: Counter;
  readonly journeyUpdatesPublished: Counter;
  readonly tickFailures: Counter;
  readonly provisionalTicks: Counter;
  readonly provisionalCorrections: Counter;
  readonly watermark: Gauge;
  readonly rebuiltWindows: Counter<'table'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rowsWritten = new Counter({ name: 'tower_aggregator_rows_written_total', help: 'Raw rows inserted into ClickHouse', labelNames: ['table'], registers });
    this.insertSeconds = new Histogram({ name: 'tower_aggregator_insert_seconds', help: 'ClickHouse insert latency', labelNames: ['table'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.batchRows = new Histogram({ name: 'tower_aggregator_batch_rows', help: 'Rows per insert', labelNames: ['table'], buckets: [1, 10, 100, 1000, 5000, 20000, 50000], registers });
    this.duplicates = new Counter({ name: 'tower_aggregator_duplicate_events_total', help: 'Re-sent event ids dropped before insert', labelNames: ['topic'], registers });
    this.alreadyStored = new Counter({ name: 'tower_aggregator_already_stored_total', help: 'Messages skipped after a restart because their offset was already stored', labelNames: ['topic'], registers });
    this.lateEvents = new Counter({ name: 'tower_aggregator_late_events_total', help: 'Events for windows the watermark had passed (stored, window corrected)', labelNames: ['topic'], registers });
    this.ticksPublished = new Counter({ name: 'tower_aggregator_ticks_published_total', help: 'Throughput ticks published', registers });
    this.journeyUpdatesPublished = new Counter({ name: 'tower_aggregator_journey_updates_published_total', help: 'Journey updates published', registers });
    this.tickFailures = new Counter({ name: 'tower_aggregator_tick_failures_total', help: 'Live rounds (ticks and journey updates) that failed (retried)', registers });
    this.provisionalTicks = new Counter({ name: 'tower_aggregator_provisional_ticks_total', help: 'Provisional throughput ticks published from decoded batches before their insert', registers });
    this.provisionalCorrections = new Counter({ name: 'tower_aggregator_provisional_corrections_total', help: 'Confirmed windows whose stored figures differed from the provisional estimate of the same batches', registers });
    this.rebuiltWindows = new Counter({ name: 'tower_aggregator_rebuilt_windows_total', help: 'Aggregate windows rebuilt from the raw rows after an insert failed between its raw part and its views', labelNames: ['table'], registers });
    this.watermark = new Gauge({ name: 'tower_aggregator_watermark_timestamp_seconds', help: 'Event-time watermark, as a Unix time in seconds', registers });
  }
}
