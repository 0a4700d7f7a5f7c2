/**
 * Device traffic for the load tests, from the simulator's own traffic model (its
 * press-derived volumes, daily curve, journeys, lane events and people): one simulated
 * day gives the average rates and a pool of batches, one site each, as a site's
 * gateway sends them, taken across the whole day. The Artillery processor cycles
 * through the pool and stamps every event it sends afresh (a new eventId, observedAt
 * near now, the run's source prefix), so a pool of any size feeds a run of any length.
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
  /** About this many batches, spread over the day. */
  batches: number;
  seed: number;
  /** Only sites we hold a device key for. */
  sites: ReadonlySet<string>;
}

/** Share of arriving trucks whose firm booked a slot: the simulator's default (SIM_SLOT_SHARE_PERCENT). */
const bookedShare = 0.3;
const day = 24 * 3600_000;

export interface TrafficModel {
  pool: PoolBatch[];
  /** The model's daily average, every operating site (events/s). */
  eventsPerSecond: number;
  /** Slot bookings by firms per second, on the daily average. */
  bookingsPerSecond: number;
}

export function trafficModel(catalog: SiteCatalog, options: PoolOptions): TrafficModel {
  const start = Date.now() - 2 * day;
  const events = new TrafficSimulation(catalog, { seed: options.seed, rate: 1, start }).advanceTo(start + day);
  const open = new Map<string, TowerEvent[]>();
  const all: PoolBatch[] = [];
  for (const event of events) {
    if (!options.sites.has(event.site)) continue;
    const batch = open.get(event.site) ?? [];
    batch.push(event);
    open.set(event.site, batch);
    if (batch.length === options.batchSize) {
      all.push({ site: event.site, events: batch });
      open.delete(event.site);
    }
  }
  if (all.length === 0) throw new Error(`the simulation gave no batch for the sites with device keys (${[...options.sites].join(', ') || 'none'})`);
  const every = Math.max(1, Math.floor(all.length / options.batches));
  return {
    pool: all.filter((_, i) => i % every === 0),
    eventsPerSecond: events.length / (day / 1000),
    bookingsPerSecond: (events.filter((e) => e.type === 'truck.arrived').length * bookedShare) / (day / 1000),
  };
}
