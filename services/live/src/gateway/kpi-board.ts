import type { Logger } from '@tower/shared';
import type { KpisNow, LaneNow } from '../domain/kpis.ts';
import type { LiveFilter } from '../domain/protocol.ts';
import type { ZoneKpis } from '../history/kpi-reader.ts';
import type { LiveHub } from './hub.ts';
import type { KpiRoundExchange } from './kpi-rounds.ts';

/** Where a round came from: read from ClickHouse here, or received from the leading instance. */
export type KpiRoundSource = 'clickhouse' | 'leader';

/** Rounds shared between instances: the alert lead reads and stores them, the others take them. */
export interface KpiRoundSharing {
  exchange: KpiRoundExchange;
  /** Whether this instance holds the alert lead (the one that reads rounds for all). */
  leads: () => boolean;
  /** Counts each round this instance took, by source (tower_live_kpi_rounds_total). */
  counted: (source: KpiRoundSource) => void;
}

export interface KpiBoardSettings {
  /** At most one refresh per this period, and only after new ticks (or once `maxAgeMs` passed). */
  refreshMs: number;
  /** KPIs older than this are read again even without ticks: queue samples go stale, days roll over. */
  maxAgeMs: number;
  /** With sharing: the leader's stored round expires after this, and a follower that finds none reads ClickHouse itself until one comes again. */
  fallbackMs: number;
}

/**
 * The KPI tiles and lane grids the gateway pushes on `kpis` and `lanes`. A throughput
 * tick marks them stale; at most once per `refreshMs`, while someone listens, they are
 * read again from ClickHouse (one round for the whole zone) and what changed is
 * published: the tiles of each site (and of the zone) whose figures moved, and each lane
 * whose status, queue or last-hour figures moved. Snapshots read the latest round.
 *
 * With `sharing`, one instance reads for all: the one leading alert evaluation reads
 * while someone watches at any instance (or its alert rounds ask) and stores each round
 * in Redis, again at every refresh period while watched so that it does not expire;
 * followers whose clients watch take the stored round instead of reading, and publish
 * from it the same way. A follower that finds no stored round (the leader died, or
 * stopped feeding it for `fallbackMs`) reads ClickHouse itself until rounds come again;
 * the alert lead passes to a live instance within its lease.
 */
export class KpiBoard {
  private latest: ZoneKpis | undefined;
  private stale = true;
  private reading: Promise<ZoneKpis> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly published = new Map<string, string>();
  private readonly stopListening: () => void;
  private readonly roundListeners: ((round: ZoneKpis) => Promise<void>)[] = [];
  /** A follower reading ClickHouse itself for want of the leader's rounds (logged when it starts and ends). */
  private fallingBack = false;

  constructor(
    private readonly hub: LiveHub,
    private readonly read: (at: number) => Promise<ZoneKpis>,
    private readonly settings: KpiBoardSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly sharing?: KpiRoundSharing,
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
    if (this.following()) {
      const received = await this.receive();
      if (received && this.now() - received.at <= maxAgeMs) return received;
    }
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
    try {
      const watchedHere = this.hub.hasListeners('kpis') || this.hub.hasListeners('lanes') || this.hub.hasListeners('conditions');
      if (this.following()) {
        if (watchedHere) await this.follow();
        return;
      }
      if (!watchedHere && !(await this.sharing?.exchange.wanted())) return;
      const old = !this.latest || this.now() - this.latest.at > this.settings.maxAgeMs;
      if (this.stale || old) await this.refresh();
      // Stored again while watched, so followers do not take a quiet spell for a dead leader.
      else if (this.sharing && this.latest) await this.sharing.exchange.publish(this.latest, this.settings.fallbackMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'KPIs could not be read; the wall keeps the last figures');
    }
  }

  private following(): boolean {
    return this.sharing !== undefined && !this.sharing.leads();
  }

  /** A follower's refresh: asks the leader for rounds, takes its latest, or reads ClickHouse itself when none is stored. */
  private async follow(): Promise<void> {
    const { exchange } = this.sharing!;
    await exchange.want(this.settings.fallbackMs);
    if (await this.receive()) return;
    if (!this.fallingBack) this.logger.warn({ fallbackMs: this.settings.fallbackMs }, 'no KPI round from the leading instance; reading ClickHouse here until its rounds come again');
    this.fallingBack = true;
    const old = !this.latest || this.now() - this.latest.at > this.settings.maxAgeMs;
    if (this.stale || old) await this.refresh();
  }

  /** The leader's stored round, taken (published here, passed to the round listeners) when newer than ours; undefined when none is stored. */
  private async receive(): Promise<ZoneKpis | undefined> {
    const round = await this.sharing!.exchange.latest();
    if (!round) return undefined;
    if (this.fallingBack) this.logger.info('KPI rounds from the leading instance again; no more reading ClickHouse here');
    this.fallingBack = false;
    if (!this.latest || round.at > this.latest.at) await this.take(round, 'leader');
    return this.latest;
  }

  /** One read at a time; callers during a read share it. */
  private refresh(): Promise<ZoneKpis> {
    this.reading ??= (async () => {
      this.stale = false;
      try {
        const round = await this.read(this.now());
        if (this.sharing?.leads()) await this.sharing.exchange.publish(round, this.settings.fallbackMs);
        await this.take(round, 'clickhouse');
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

  private async take(round: ZoneKpis, source: KpiRoundSource): Promise<void> {
    this.latest = round;
    this.sharing?.counted(source);
    this.publishChanges(round);
    for (const listener of this.roundListeners) await listener(round);
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
