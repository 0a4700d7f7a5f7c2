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
  if (role === 'all') return { readiness: [], instrument: () => undefined, started: () => undefined };
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
  const served = new Counter({ name: 'tower_slots_api_process_requests_total', help: 'HTTP requests answered, by API process (1…SLOTS_API_PROCESSES): how the port spreads its connections', labelNames: ['process'], registers: [metrics] });
  const place = process.env[indexEnv] ?? '0';
  return {
    readiness: [{ name: 'duties process', check: async () => void (await primary.ask('duties')) }],
    instrument: (http) => http.addHook('onResponse', async () => served.inc({ process: place })),
    started: () => undefined,
  };
}
