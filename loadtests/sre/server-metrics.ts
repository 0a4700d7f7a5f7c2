/**
 * Server-side figures during a run: every few seconds each service's Prometheus
 * /metrics is read and reduced to the figures an SRE looks at (event-loop lag, memory,
 * consumer lag, live sockets and the bytes queued for them, Kafka ack time, ClickHouse
 * insert time), so the report shows whether the load generator or the system was the limit.
 */
export interface Sample {
  /** ms since the epoch. */
  at: number;
  /** The sampler's round: the reads of one round (one per endpoint) were made together. */
  round: number;
  /** figure name → value; a figure the service does not expose is absent. */
  figures: Record<string, number>;
  /**
   * Messages behind per partition of each consumer group (`partitionKey`), where not 0: what
   * the run's lag figures reduce over the instances of a service.
   */
  lag?: Record<string, number>;
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

/** One partition of one consumer group of one service, whichever instance reports it. */
const partitionKey = (labels: Record<string, string>) => [labels['service'], labels['group'], labels['topic'], labels['partition']].join(' ');

/**
 * Messages behind per partition of each consumer group (`tower_consumer_lag_messages`), the
 * partitions at 0 left out. An instance reads its groups' lag from the committed offsets, so
 * it reports every partition of its group, as every other instance of its service does; the
 * live gateways each read the whole topic under the feed's one name.
 */
function lagOf(text: string): Record<string, number> {
  const lag: Record<string, number> = {};
  for (const { name, labels, value } of parsePrometheus(text)) {
    if (name !== 'tower_consumer_lag_messages' || value === 0) continue;
    const key = partitionKey(labels);
    lag[key] = Math.max(lag[key] ?? value, value);
  }
  return lag;
}

/** Messages behind over a set of reads: the worst read of each partition, summed (the instances of a service are not added up). */
function worstLag(reads: readonly Record<string, number>[]): number {
  const worst = new Map<string, number>();
  for (const read of reads) for (const [key, messages] of Object.entries(read)) worst.set(key, Math.max(worst.get(key) ?? messages, messages));
  return [...worst.values()].reduce((total, messages) => total + messages, 0);
}

/** The figures of one read; `mean…Ms` are means over the interval since `previous`. */
export function figuresOf(text: string, previous?: Record<string, number>): Record<string, number> {
  const samples = parsePrometheus(text);
  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
  const has = (name: string) => samples.some((s) => s.name === name);
  const figures: Record<string, number> = {};
  if (has('nodejs_eventloop_lag_p99_seconds')) figures['eventLoopLagP99Ms'] = sum('nodejs_eventloop_lag_p99_seconds') * 1000;
  if (has('process_resident_memory_bytes')) figures['rssMiB'] = sum('process_resident_memory_bytes') / 2 ** 20;
  if (has('nodejs_heap_size_used_bytes')) figures['heapUsedMiB'] = sum('nodejs_heap_size_used_bytes') / 2 ** 20;
  if (has('tower_consumer_lag_messages')) figures['consumerLag'] = worstLag([lagOf(text)]);
  // Open sockets of every role (display, operator, firm), and the bytes written to them the clients have not taken.
  if (has('tower_live_connections')) figures['liveConnections'] = sum('tower_live_connections');
  if (has('tower_live_queued_bytes')) figures['liveQueuedKiB'] = sum('tower_live_queued_bytes') / 1024;
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

/**
 * The run's server-side figures an SLO may bound: growth of memory, the worst event-loop lag,
 * and the consumer lag at its highest (over the rounds of reads) and at the end (each endpoint's
 * last read), every partition at its worst instance, as Prometheus's recording rule reduces it.
 */
export function serverFigures(series: readonly ServiceSeries[]): Record<string, number | null> {
  const of = (key: string) => series.map((s) => course(s, key)).filter((c) => c !== undefined);
  const most = (values: number[]) => (values.length > 0 ? Math.max(...values) : null);
  const reporting = series.filter((s) => s.samples.some((sample) => sample.figures['consumerLag'] !== undefined));
  const rounds = new Map<number, Record<string, number>[]>();
  for (const sample of reporting.flatMap((s) => s.samples)) rounds.set(sample.round, [...(rounds.get(sample.round) ?? []), sample.lag ?? {}]);
  return {
    'server.rss_growth_mib': most(of('rssMiB').map((c) => c.last - c.first)),
    'server.heap_growth_mib': most(of('heapUsedMiB').map((c) => c.last - c.first)),
    'server.event_loop_lag_p99_max_ms': most(of('eventLoopLagP99Ms').map((c) => c.max)),
    'server.consumer_lag_max': most([...rounds.values()].map(worstLag)),
    'server.consumer_lag_end': reporting.length > 0 ? worstLag(reporting.map((s) => s.samples.at(-1)?.lag ?? {})) : null,
  };
}

/** Reads every service's /metrics every `everyMs` until stopped. */
export class MetricsSampler {
  readonly series: ServiceSeries[];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private nextRound = 0;

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
    const round = this.nextRound++;
    await Promise.all(
      this.series.map(async (series) => {
        try {
          const response = await fetch(series.url, { signal: AbortSignal.timeout(4000) });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const text = await response.text();
          const lag = lagOf(text);
          series.samples.push({ at: Date.now(), round, figures: figuresOf(text, series.samples.at(-1)?.figures), ...(Object.keys(lag).length > 0 ? { lag } : {}) });
        } catch (error) {
          series.failures += 1;
          series.lastError = (error as Error).message;
        }
      }),
    );
  }
}
