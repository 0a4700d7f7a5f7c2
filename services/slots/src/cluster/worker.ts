/**
 * A forked slots process's side of the cluster: its metrics are the primary's to
 * aggregate, an API process's /metrics answers the whole service's (asked of the
 * primary), its /readyz includes the duties process, and each API process counts the
 * requests it served under its place (1…N) so the spread over processes shows.
 */
import type { FastifyInstance } from 'fastify';
import { AggregatorRegistry, Counter, type Registry } from 'prom-client';
import type { ReadinessCheck } from '@tower/shared';
import { indexEnv, PrimaryChannel, type DutiesReady, type SlotsRole } from './messages.ts';

export interface ClusterWorker {
  /** Readiness checks an API process adds: the duties process is up. */
  readiness: ReadinessCheck[];
  /** Counts requests per process on an API process's server; nothing on the others. */
  instrument(http: FastifyInstance): void;
  /** Tells the primary the duties process is ready (after its start). */
  started(): void;
}

export function joinCluster(role: SlotsRole, metrics: Registry): ClusterWorker {
  // One process serving everything is API process 1: the metric the table lists is served in every mode.
  if (role === 'all') return { readiness: [], instrument: countServed(metrics, '1'), started: () => undefined };
  // Its constructor installs the answer to the primary's requests for this process's metrics.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics]);
  const primary = new PrimaryChannel();
  if (role === 'duties') {
    const ready: DutiesReady = { type: 'tower-slots:duties-ready' };
    return { readiness: [], instrument: () => undefined, started: () => process.send?.(ready) };
  }
  // The scrape of any API process shows every process (counters and histograms summed).
  metrics.metrics = () => primary.ask('metrics');
  return {
    readiness: [{ name: 'duties process', check: async () => void (await primary.ask('duties')) }],
    instrument: countServed(metrics, process.env[indexEnv] ?? '0'),
    started: () => undefined,
  };
}

/** Counts the HTTP requests this API process answers, labelled with its place among the API processes. */
function countServed(metrics: Registry, place: string): ClusterWorker['instrument'] {
  const served = new Counter({ name: 'tower_slots_api_process_requests_total', help: 'HTTP requests answered, by API process (1…SLOTS_API_PROCESSES): how the port spreads its connections', labelNames: ['process'], registers: [metrics] });
  return (http) => http.addHook('onResponse', async () => served.inc({ process: place }));
}
