/**
 * Server-side figures during a run: every few seconds each service's Prometheus
 * /metrics is read and reduced to the figures an SRE looks at (event-loop lag, memory,
 * consumer lag, Kafka ack time, ClickHouse insert time), so the report shows whether
 * the load generator or the system was the limit.
 */
export interface Sample {
  /** ms since the epoch. */
  at: number;
  /** figure name → value; a figure the service does not expose is absent. */
  figures: Record<string, number>;
}

export interface ServiceSeries {
  service: string;
  url: string;
  samples: Sample[];
  /** Reads that failed (the service down, or /metrics not reachable from here). */
  failures: number;
  lastError?: string;
}

/** A Prometheus text exposition: every sample as name, labels and value (comments and NaN dropped). */
export function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[4]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: match[1]!, labels, value });
  }
  return out;
}

/** Cumulative sums and counts, for the mean of an interval between two samples. */
const histograms = { kafkaAck: 'tower_ingest_kafka_ack_seconds', insert: 'tower_aggregator_insert_seconds' } as const;

/** The figures of one read; `mean…Ms` are means over the interval since `previous`. */
export function figuresOf(text: string, previous?: Record<string, number>): Record<string, number> {
  const samples = parsePrometheus(text);
  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
  const has = (name: string) => samples.some((s) => s.name === name);
  const figures: Record<string, number> = {};
  if (has('nodejs_eventloop_lag_p99_seconds')) figures['eventLoopLagP99Ms'] = sum('nodejs_eventloop_lag_p99_seconds') * 1000;
  if (has('process_resident_memory_bytes')) figures['rssMiB'] = sum('process_resident_memory_bytes') / 2 ** 20;
  if (has('nodejs_heap_size_used_bytes')) figures['heapUsedMiB'] = sum('nodejs_heap_size_used_bytes') / 2 ** 20;
  if (has('tower_consumer_lag_messages')) figures['consumerLag'] = sum('tower_consumer_lag_messages');
  for (const [figure, name] of Object.entries(histograms)) {
    if (!has(`${name}_count`)) continue;
    figures[`${figure}Count`] = sum(`${name}_count`);
    figures[`${figure}Seconds`] = sum(`${name}_sum`);
    const count = figures[`${figure}Count`]! - (previous?.[`${figure}Count`] ?? 0);
    if (previous && count > 0) figures[`${figure}MeanMs`] = ((figures[`${figure}Seconds`]! - (previous[`${figure}Seconds`] ?? 0)) / count) * 1000;
  }
  return figures;
}

/** First, highest and last value of one figure of one service, or undefined when it has none. */
export function course(series: ServiceSeries, key: string): { first: number; max: number; last: number } | undefined {
  const values = series.samples.map((s) => s.figures[key]).filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return undefined;
  return { first: values[0]!, max: Math.max(...values), last: values.at(-1)! };
}

/** The run's server-side figures an SLO may bound: growth of memory, the lag left at the end, the worst event-loop lag. */
export function serverFigures(series: readonly ServiceSeries[]): Record<string, number | null> {
  const of = (key: string) => series.map((s) => course(s, key)).filter((c) => c !== undefined);
  const most = (values: number[]) => (values.length > 0 ? Math.max(...values) : null);
  const lag = of('consumerLag');
  return {
    'server.rss_growth_mib': most(of('rssMiB').map((c) => c.last - c.first)),
    'server.heap_growth_mib': most(of('heapUsedMiB').map((c) => c.last - c.first)),
    'server.event_loop_lag_p99_max_ms': most(of('eventLoopLagP99Ms').map((c) => c.max)),
    'server.consumer_lag_max': lag.length > 0 ? lag.reduce((sum, c) => sum + c.max, 0) : null,
    'server.consumer_lag_end': lag.length > 0 ? lag.reduce((sum, c) => sum + c.last, 0) : null,
  };
}

/** Reads every service's /metrics every `everyMs` until stopped. */
export class MetricsSampler {
  readonly series: ServiceSeries[];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(endpoints: Record<string, string>, private readonly everyMs = 5000) {
    this.series = Object.entries(endpoints).map(([service, url]) => ({ service, url, samples: [], failures: 0 }));
  }

  start(): void {
    const tick = () => {
      this.round = this.sampleAll().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<ServiceSeries[]> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
    await this.sampleAll();
    return this.series;
  }

  private async sampleAll(): Promise<void> {
    await Promise.all(
      this.series.map(async (series) => {
        try {
          const response = await fetch(series.url, { signal: AbortSignal.timeout(4000) });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          series.samples.push({ at: Date.now(), figures: figuresOf(await response.text(), series.samples.at(-1)?.figures) });
        } catch (error) {
          series.failures += 1;
          series.lastError = (error as Error).message;
        }
      }),
    );
  }
}
