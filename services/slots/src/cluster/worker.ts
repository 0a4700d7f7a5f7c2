/**
 * A forked slots process's side of the cluster: its metrics are the primary's to gather
 * (it answers the primary's requests once it has joined), an API process's /metrics
 * answers the whole service's (asked of the primary), its /readyz includes the duties
 * process, each API process counts the requests it served under its place (1…N) so the
 * spread over processes shows, and signals are left to the primary, which orders the stop.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Logger, ReadinessCheck } from '@tower/shared';
import { countProcesses, indexEnv, isMetricsRequest, isStopOrder, PrimaryChannel, type DutiesReady, type Joined, type MetricsReply, type SlotsRole } from './messages.ts';

export interface ClusterWorker {
  /** Readiness checks an API process adds: the duties process is up. */
  readiness: ReadinessCheck[];
  /** Counts requests per process on an API process's server; nothing on the others. */
  instrument(http: FastifyInstance): void;
  /** Tells the primary this process is started (its metrics can be asked; the duties process: ready). */
  started(): void;
}

export function joinCluster(role: SlotsRole, metrics: Registry): ClusterWorker {
  if (role === 'all') {
    // One process serving everything is API process 1 and the one process answering: the metrics the table lists are served in every mode.
    countProcesses(metrics, 1, 1);
    return { readiness: [], instrument: countServed(metrics, '1'), started: () => undefined };
  }
  process.on('message', (message: unknown) => {
    if (!isMetricsRequest(message)) return;
    void metrics.getMetricsAsJSON().then((json) => {
      const reply: MetricsReply = { type: 'tower-slots:metrics', id: message.id, metrics: json };
      if (process.connected) process.send?.(reply);
    });
  });
  // Asked only once started: a collect reading Redis before its client connected would break the connect.
  const joined: Joined = { type: 'tower-slots:joined' };
  const primary = new PrimaryChannel();
  if (role === 'duties') {
    const ready: DutiesReady = { type: 'tower-slots:duties-ready' };
    return { readiness: [], instrument: () => undefined, started: () => (process.send?.(joined), process.send?.(ready)) };
  }
  // The scrape of any API process shows every process (counters and histograms summed).
  metrics.metrics = () => primary.ask('metrics');
  return {
    readiness: [{ name: 'duties process', check: async () => void (await primary.ask('duties')) }],
    instrument: countServed(metrics, process.env[indexEnv] ?? '0'),
    started: () => process.send?.(joined),
  };
}

/**
 * For a forked process, after `install` (the Lifecycle's signal handlers): SIGTERM and
 * SIGINT are logged and ignored (a control group's or a terminal's signal reaches every
 * process at once, and the duties process must outlive the API processes); the primary's
 * stop order runs the stop SIGTERM would have run.
 */
export function stopOnPrimaryOrder(install: () => void, logger: Logger): void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  install();
  const stop = process.listeners('SIGTERM').filter((listener) => !before.get('SIGTERM')!.includes(listener));
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
    process.on(signal, () => logger.info({ signal }, 'signal ignored: the primary stops the slots processes in order'));
  }
  process.on('message', (message: unknown) => {
    if (!isStopOrder(message)) return;
    logger.info('the primary ordered the stop');
    for (const listener of stop) listener('SIGTERM');
  });
}

/** Counts the HTTP requests this API process answers, labelled with its place among the API processes. */
function countServed(metrics: Registry, place: string): ClusterWorker['instrument'] {
  const served = new Counter({ name: 'tower_slots_api_process_requests_total', help: 'HTTP requests answered, by API process (1…SLOTS_API_PROCESSES): how the port spreads its connections', labelNames: ['process'], registers: [metrics] });
  return (http) => http.addHook('onResponse', async () => served.inc({ process: place }));
}
