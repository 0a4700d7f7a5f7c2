import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '@tower/shared';
import { renderServerFigures } from './domain/exposition.ts';
import type { ClickHouseReader, ClickHouseReading, TableFigures } from './reader.ts';

/** The exporter's own figures about ClickHouse (the server's are rendered as it names them). */
export class ExporterMetrics {
  readonly up: Gauge;
  readonly readSeconds: Histogram;
  private readonly perTable: [Gauge<'database' | 'table'>, (table: TableFigures) => number][];

  constructor(registry: Registry) {
    const registers = [registry];
    this.up = new Gauge({ name: 'tower_clickhouse_up', help: '1 when the last read of ClickHouse answered, 0 when it did not', registers });
    this.readSeconds = new Histogram({ name: 'tower_clickhouse_scrape_duration_seconds', help: 'Time to read ClickHouse for a scrape, answered or not', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.perTable = [
      [new Gauge({ name: 'tower_clickhouse_table_parts', help: 'Active parts of the table', labelNames: ['database', 'table'], registers }), (t) => t.parts],
      [new Gauge({ name: 'tower_clickhouse_table_rows', help: 'Rows in the active parts of the table', labelNames: ['database', 'table'], registers }), (t) => t.rows],
      [new Gauge({ name: 'tower_clickhouse_table_bytes', help: 'Bytes on disk of the active parts of the table (compressed)', labelNames: ['database', 'table'], registers }), (t) => t.bytes],
      [new Gauge({ name: 'tower_clickhouse_max_part_count_for_partition', help: "Active parts of the table's fullest partition: inserts are delayed, then refused, as it grows", labelNames: ['database', 'table'], registers }), (t) => t.maxPartsPerPartition],
      [new Gauge({ name: 'tower_clickhouse_merges_running', help: 'Merges running on the table', labelNames: ['database', 'table'], registers }), (t) => t.mergesRunning],
      [new Gauge({ name: 'tower_clickhouse_mutations_pending', help: 'Mutations of the table not done yet', labelNames: ['database', 'table'], registers }), (t) => t.mutationsPending],
    ];
  }

  /** The tables as read; tables no longer there disappear. */
  showTables(tables: readonly TableFigures[]): void {
    for (const [gauge, valueOf] of this.perTable) {
      gauge.reset();
      for (const table of tables) gauge.set({ database: table.database, table: table.table }, valueOf(table));
    }
  }
}

/**
 * Reads ClickHouse for a scrape: one read at a time, a scrape arriving while one is
 * under way shares it. An answered read sets `tower_clickhouse_up` 1 and the tables'
 * gauges and gives the server's figures as text; one that fails sets it 0, drops the
 * tables' gauges (no stale figures) and gives no text. Never throws.
 */
export class ClickHouseCollector {
  private reading: Promise<string> | undefined;
  /** Why the last read failed; undefined while ClickHouse answers. */
  private outage: string | undefined;

  constructor(
    private readonly reader: ClickHouseReader,
    private readonly metrics: ExporterMetrics,
    private readonly logger: Logger,
  ) {}

  collect(): Promise<string> {
    this.reading ??= this.readOnce().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readOnce(): Promise<string> {
    const stopTimer = this.metrics.readSeconds.startTimer();
    let reading: ClickHouseReading;
    try {
      reading = await this.reader.read();
    } catch (error) {
      this.metrics.up.set(0);
      this.metrics.showTables([]);
      const message = (error as Error).message || String(error);
      // Once per outage (and when its cause changes), not on every scrape.
      if (message !== this.outage) this.logger.warn({ err: error }, 'ClickHouse did not answer: tower_clickhouse_up 0');
      this.outage = message;
      return '';
    } finally {
      stopTimer();
    }
    if (this.outage !== undefined) this.logger.info('ClickHouse answers again: tower_clickhouse_up 1');
    this.outage = undefined;
    this.metrics.up.set(1);
    this.metrics.showTables(reading.tables);
    return renderServerFigures(reading.server);
  }
}

/**
 * The exporter's registry: its text is a fresh read of ClickHouse (through `collect`,
 * which also updates the exporter's own gauges) after the service's own metrics, so the
 * shared `/metrics` route serves both.
 */
export class ExporterRegistry extends Registry {
  private collect: () => Promise<string> = async () => '';

  constructor(service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this });
  }

  readFrom(collector: ClickHouseCollector): void {
    this.collect = () => collector.collect();
  }

  override async metrics(): Promise<string> {
    const clickhouse = await this.collect();
    return `${await super.metrics()}${clickhouse === '' ? '' : `\n${clickhouse}`}`;
  }
}
