/**
 * Device traffic for the load tests, from the simulator's own traffic model (its
 * press-derived volumes, daily curve, journeys and lane events): a pool of batches, one
 * site each, as a site's gateway sends them. The Artillery processor cycles through the
 * pool and stamps every event it sends afresh (a new eventId, observedAt near now, the
 * run's source prefix), so a pool of any size feeds a run of any length.
 */
import type { SiteCatalog, TowerEvent } from '@tower/shared';
import { TrafficSimulation } from '../../services/simulator/src/domain/traffic.ts';

export interface PoolBatch {
  site: string;
  events: TowerEvent[];
}

export interface PoolOptions {
  /** Events per batch (a gateway's batch). */
  batchSize: number;
  /** At least this many batches (more sites, more batches). */
  batches: number;
  seed: number;
  /** Only sites we hold a device key for. */
  sites: ReadonlySet<string>;
}

/** Simulated hours at a raised rate until every wanted batch is full, in event-time order per site. */
export function eventPool(catalog: SiteCatalog, options: PoolOptions): PoolBatch[] {
  const start = Date.now() - 48 * 3600_000;
  const simulation = new TrafficSimulation(catalog, { seed: options.seed, rate: 20, start });
  const open = new Map<string, TowerEvent[]>();
  const pool: PoolBatch[] = [];
  for (let at = start + 600_000; pool.length < options.batches && at <= start + 48 * 3600_000; at += 600_000) {
    for (const event of simulation.advanceTo(at)) {
      if (!options.sites.has(event.site)) continue;
      const batch = open.get(event.site) ?? [];
      batch.push(event);
      open.set(event.site, batch);
      if (batch.length === options.batchSize) {
        pool.push({ site: event.site, events: batch });
        open.delete(event.site);
      }
    }
  }
  if (pool.length === 0) throw new Error(`the simulation gave no batch for the sites with device keys (${[...options.sites].join(', ') || 'none'})`);
  return pool;
}
