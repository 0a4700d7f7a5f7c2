import { AsyncLocalStorage } from 'node:async_hooks';
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

/** A read under way: its outcome (text, '' when ClickHouse did not answer) and how long it may take. */
interface Reading {
  outcome: Promise<{ text: string; answered: boolean }>;
  /** When it gives up (performance.now() time; Infinity without a budget of its own). */
  deadline: number;
}

/**
 * Reads ClickHouse for a scrape: one read at a time. A scrape arriving while one is under
 * way shares its answer, and shares its failure only if that read was allowed at least as
 * long as the scrape allows: a read given a shorter budget (another client's header) may
 * give up sooner than this scrape needs to, so after it fails the scrape reads again
 * within what is left of its own budget. An answered read sets `tower_clickhouse_up` 1
 * and the tables' gauges and gives the server's figures as text; one that fails sets it
 * 0, drops the tables' gauges (no stale figures) and gives no text. Never throws.
 */
export class ClickHouseCollector {
  private reading: Reading | undefined;
  /** Why the last read failed; undefined while ClickHouse answers. */
  private outage: string | undefined;

  constructor(
    private readonly reader: ClickHouseReader,
    private readonly metrics: ExporterMetrics,
    private readonly logger: Logger,
  ) {}

  /** `budgetMs`: how long the read may take before it counts as no answer. */
  async collect(budgetMs?: number): Promise<string> {
    const deadline = budgetMs === undefined ? Infinity : performance.now() + budgetMs;
    for (;;) {
      const shared = this.reading;
      if (!shared) return (await this.startReading(deadline)).text;
      const { text, answered } = await shared.outcome;
      if (answered || shared.deadline >= deadline) return text;
      // It gave up before this scrape's deadline: read again (or share the read that has begun since).
      if (performance.now() >= deadline) return text;
    }
  }

  private startReading(deadline: number): Promise<{ text: string; answered: boolean }> {
    const budgetMs = deadline === Infinity ? undefined : Math.max(1, Math.round(deadline - performance.now()));
    const reading: Reading = {
      outcome: this.readOnce(budgetMs).finally(() => {
        if (this.reading === reading) this.reading = undefined;
      }),
      deadline,
    };
    this.reading = reading;
    return reading.outcome;
  }

  private async readOnce(budgetMs: number | undefined): Promise<{ text: string; answered: boolean }> {
    const stopTimer = this.metrics.readSeconds.startTimer();
    let reading: ClickHouseReading;
    try {
      reading = await this.reader.read(budgetMs);
    } catch (error) {
      this.metrics.up.set(0);
      this.metrics.showTables([]);
      const message = (error as Error).message || String(error);
      // Once per outage (and when its cause changes), not on every scrape.
      if (message !== this.outage) this.logger.warn({ err: error }, 'ClickHouse did not answer: tower_clickhouse_up 0');
      this.outage = message;
      return { text: '', answered: false };
    } finally {
      stopTimer();
    }
    if (this.outage !== undefined) this.logger.info('ClickHouse answers again: tower_clickhouse_up 1');
    this.outage = undefined;
    this.metrics.up.set(1);
    this.metrics.showTables(reading.tables);
    return { text: renderServerFigures(reading.server), answered: true };
  }
}

/** Prometheus's header with the scrape's own timeout, in seconds (sent with every scrape). */
export const scrapeTimeoutHeader = 'x-prometheus-scrape-timeout-seconds';

/** The shortest read budget a scrape's header can ask for: a client asking for less cannot make ClickHouse look down. */
export const minReadBudgetMs = 1000;

/**
 * How long a scrape's read of ClickHouse may take: safely under the scrape's own timeout,
 * so that a slow ClickHouse is reported (`tower_clickhouse_up 0`) before Prometheus gives
 * up on the whole scrape: the timeout less a tenth, and at least 0.5 s for the answer's
 * way back, but never under `minReadBudgetMs`. Undefined without the header (the client's
 * request timeout, CLICKHOUSE_READ_TIMEOUT_MS, bounds each statement then, as it always does).
 */
export function readBudgetMs(scrapeTimeout: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(scrapeTimeout) ? scrapeTimeout[0] : scrapeTimeout);
  if (scrapeTimeout === undefined || !Number.isFinite(seconds) || seconds <= 0) return undefined;
  const ms = seconds * 1000;
  return Math.max(minReadBudgetMs, Math.round(ms - Math.max(500, ms / 10)));
}

/**
 * The exporter's registry: its text is a fresh read of ClickHouse (through `collect`,
 * which also updates the exporter's own gauges) after the service's own metrics, so the
 * shared `/metrics` route serves both, within the budget of the scrape it answers
 * (`duringScrape`).
 */
export class ExporterRegistry extends Registry {
  private collect: (budgetMs?: number) => Promise<string> = async () => '';
  private readonly scrape = new AsyncLocalStorage<number | undefined>();

  constructor(service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this });
  }

  readFrom(collector: ClickHouseCollector): void {
    this.collect = (budgetMs) => collector.collect(budgetMs);
  }

  /** Runs `answer` (the /metrics route's handler) with its scrape's read budget. */
  duringScrape<T>(budgetMs: number | undefined, answer: () => T): T {
    return this.scrape.run(budgetMs, answer);
  }

  override async metrics(): Promise<string> {
    const clickhouse = await this.collect(this.scrape.getStore());
    return `${await super.metrics()}${clickhouse === '' ? '' : `\n${clickhouse}`}`;
  }
}
