import type { Logger } from '@tower/shared';
import type { KpisNow, LaneNow } from '../domain/kpis.ts';
import type { LiveFilter } from '../domain/protocol.ts';
import type { ZoneKpis } from '../history/kpi-reader.ts';
import type { LiveHub } from './hub.ts';

export interface KpiBoardSettings {
  /** At most one refresh per this period, and only after new ticks (or once `maxAgeMs` passed). */
  refreshMs: number;
  /** KPIs older than this are read again even without ticks: queue samples go stale, days roll over. */
  maxAgeMs: number;
}

/**
 * The KPI tiles and lane grids the gateway pushes on `kpis` and `lanes`. A throughput
 * tick marks them stale; at most once per `refreshMs`, while someone listens, they are
 * read again from ClickHouse (one round for the whole zone) and what changed is
 * published: the tiles of each site (and of the zone) whose figures moved, and each lane
 * whose status, queue or last-hour figures moved. Snapshots read the latest round.
 */
export class KpiBoard {
  private latest: ZoneKpis | undefined;
  private stale = true;
  private reading: Promise<ZoneKpis> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly published = new Map<string, string>();
  private readonly stopListening: () => void;
  private readonly roundListeners: ((round: ZoneKpis) => Promise<void>)[] = [];

  constructor(
    private readonly hub: LiveHub,
    private readonly read: (at: number) => Promise<ZoneKpis>,
    private readonly settings: KpiBoardSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const ticks = hub.stream('throughput', {}, now());
    const markStale = () => {
      this.stale = true;
    };
    ticks.listeners.add(markStale);
    this.stopListening = () => ticks.listeners.delete(markStale);
  }

  start(): void {
    this.timer = setInterval(() => void this.refreshIfWatched(), this.settings.refreshMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.stopListening();
  }

  /** Called with each new round before the readers that wait for it get it (the gate conditions); it must not throw. */
  onRound(listener: (round: ZoneKpis) => Promise<void>): void {
    this.roundListeners.push(listener);
  }

  /** The latest round, read now if there is none or it is older than `maxAgeMs`. */
  async current(maxAgeMs = this.settings.maxAgeMs): Promise<ZoneKpis> {
    if (this.latest && this.now() - this.latest.at <= maxAgeMs) return this.latest;
    return this.refresh();
  }

  async kpis(filter: LiveFilter): Promise<KpisNow> {
    const round = await this.current();
    return filter.site === undefined ? round.zone : round.sites.get(filter.site)!;
  }

  async lanes(filter: LiveFilter): Promise<{ lanes: LaneNow[] }> {
    const round = await this.current();
    return { lanes: round.zone.lanes.filter((lane) => (filter.site === undefined || lane.site === filter.site) && (filter.lane === undefined || lane.lane === filter.lane)) };
  }

  private async refreshIfWatched(): Promise<void> {
    if (!this.hub.hasListeners('kpis') && !this.hub.hasListeners('lanes') && !this.hub.hasListeners('conditions')) return;
    const old = !this.latest || this.now() - this.latest.at > this.settings.maxAgeMs;
    if (!this.stale && !old) return;
    try {
      await this.refresh();
    } catch (error) {
      this.logger.warn({ err: error }, 'KPIs could not be read; the wall keeps the last figures');
    }
  }

  /** One read at a time; callers during a read share it. */
  private refresh(): Promise<ZoneKpis> {
    this.reading ??= (async () => {
      this.stale = false;
      try {
        const round = await this.read(this.now());
        this.latest = round;
        this.publishChanges(round);
        for (const listener of this.roundListeners) await listener(round);
        return round;
      } catch (error) {
        this.stale = true;
        throw error;
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /** Publishes what moved since the previous round; the first round is what snapshots carry, so it is only recorded. */
  private publishChanges(round: ZoneKpis): void {
    const first = this.published.size === 0;
    const at = round.at;
    for (const tiles of [round.zone, ...round.sites.values()]) {
      if (this.changed(`kpis/${tiles.site ?? ''}`, { ...tiles, at: 0 }) && !first) this.hub.publish('kpis', tiles, at);
    }
    for (const lane of round.zone.lanes) if (this.changed(`lanes/${lane.site}/${lane.lane}`, lane) && !first) this.hub.publish('lanes', lane, at);
  }

  /** Whether `value` differs from what was last published under `key` (and remembers it). */
  private changed(key: string, value: object): boolean {
    const encoded = JSON.stringify(value);
    if (this.published.get(key) === encoded) return false;
    this.published.set(key, encoded);
    return true;
  }
}
