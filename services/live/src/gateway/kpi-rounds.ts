import { Counter, type Registry } from 'prom-client';
import type { Redis } from '@tower/shared';
import type { KpisNow } from '../domain/kpis.ts';
import type { ZoneKpis } from '../history/kpi-reader.ts';
import type { KpiRoundSource } from './kpi-board.ts';

/**
 * KPI rounds shared between gateway instances through Redis: the instance leading alert
 * evaluation reads each round from ClickHouse and stores it under `kpis:round`, expiring
 * after the followers' fallback bound, so the key vanishes soon after its leader stops
 * feeding it; followers read that key instead of ClickHouse. A follower whose clients
 * watch sets `kpis:wanted` (expiring too), so the leader reads rounds while someone
 * watches anywhere, not only at its own clients. Polling one small key per refresh
 * period, not pub/sub: followers already tick at that period, and a key needs no
 * subscriber connection and survives a missed message.
 */
export const kpiRoundKeys = { round: 'kpis:round', wanted: 'kpis:wanted' } as const;

/** A round as stored: the sites' map as entries. */
interface StoredRound {
  at: number;
  zone: KpisNow;
  sites: [string, KpisNow][];
}

export class KpiRoundExchange {
  constructor(private readonly redis: Redis) {}

  /** Stores the leader's round; gone after `ttlMs` unless stored again. */
  async publish(round: ZoneKpis, ttlMs: number): Promise<void> {
    const stored: StoredRound = { at: round.at, zone: round.zone, sites: [...round.sites] };
    await this.redis.set(kpiRoundKeys.round, JSON.stringify(stored), 'PX', ttlMs);
  }

  /** The leader's latest round, undefined when none is fed (no leader, or it stopped). */
  async latest(): Promise<ZoneKpis | undefined> {
    const encoded = await this.redis.get(kpiRoundKeys.round);
    if (encoded === null) return undefined;
    const stored = JSON.parse(encoded) as StoredRound;
    return { at: stored.at, zone: stored.zone, sites: new Map(stored.sites) };
  }

  /** A follower's clients watch: the leader reads rounds for the next `ttlMs`. */
  async want(ttlMs: number): Promise<void> {
    await this.redis.set(kpiRoundKeys.wanted, '1', 'PX', ttlMs);
  }

  async wanted(): Promise<boolean> {
    return (await this.redis.exists(kpiRoundKeys.wanted)) === 1;
  }
}

/** tower_live_kpi_rounds_total{source}: the rounds an instance read from ClickHouse and those it took from the leader. */
export function kpiRoundCounter(registry: Registry): (source: KpiRoundSource) => void {
  const counter = new Counter({ name: 'tower_live_kpi_rounds_total', help: 'KPI rounds taken by this instance: read from ClickHouse here, or received from the leading instance', labelNames: ['source'], registers: [registry] });
  return (source) => counter.inc({ source });
}
