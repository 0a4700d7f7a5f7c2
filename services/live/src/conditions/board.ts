import { conditionsOfSite, gateConditionsKey, laneGroupOf, vietnamIso, type CapacityPlan, type ClickHouseClient, type ConditionThresholds, type GateConditions, type LaneGroupConditions, type Logger, type Redis, type SiteCatalog } from '@tower/shared';
import { conditionsOf, conditionsWindowCount, type ConditionsGroup } from '../domain/conditions.ts';
import type { ZoneKpis } from '../history/kpi-reader.ts';
import type { LiveHub } from '../gateway/hub.ts';
import type { SlotBoard } from '../gateway/slot-board.ts';

export interface ConditionsSettings {
  thresholds: ConditionThresholds;
  windowMs: number;
  /** The view in Redis expires after this: a leader that stops writing leaves no stale view behind. */
  redisTtlMs: number;
  /** The stored slot windows are read again after this (the feed keeps them current in between). */
  reseedMs: number;
}

export interface ConditionsBoardDependencies {
  hub: LiveHub;
  slotBoard: SlotBoard;
  catalog: SiteCatalog;
  plan: CapacityPlan;
  /** Reads the stored slot windows when the slot board has none yet. */
  clickhouse: ClickHouseClient;
  redis: Redis;
  /** The latest KPI round (read now when there is none or it is too old). */
  currentRound: () => Promise<ZoneKpis>;
  /** Whether this instance leads alert evaluation: the one that writes the view to Redis. */
  leads: () => boolean;
  settings: ConditionsSettings;
  logger: Logger;
}

/** The bookable lane groups the plan knows (operating sites only), in the plan's order. */
export function conditionsGroups(catalog: SiteCatalog, plan: CapacityPlan): ConditionsGroup[] {
  return Object.keys(plan.weekly).flatMap((group) => {
    const [siteId = '', laneKind = '', direction = ''] = group.split('|');
    const site = catalog.site(siteId);
    return site && (direction === 'export' || direction === 'import') ? [{ site, laneKind, direction }] : [];
  });
}

/**
 * The gate conditions firms read: computed from each KPI round (no query of its own
 * beyond the round, but for the stored slot windows read now and then) and the slot
 * board. What moved since the previous round is published on `conditions`, one delta per
 * lane group; the instance leading alert evaluation, which reads a round every
 * `evaluateMs` whoever watches, also writes the whole view to Redis for the slots
 * service (expiring after `redisTtlMs`). Every other instance computes it only while
 * its own clients watch, for them.
 */
export class ConditionsBoard {
  private latest: GateConditions | undefined;
  private readonly published = new Map<string, string>();
  private readonly groups: ConditionsGroup[];

  constructor(private readonly deps: ConditionsBoardDependencies) {
    this.groups = conditionsGroups(deps.catalog, deps.plan);
  }

  /** A KPI round's hook: never throws (a failed read of the windows is logged, the next round tries again). */
  async onRound(round: ZoneKpis): Promise<void> {
    try {
      await this.compute(round);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'gate conditions could not be computed this round');
    }
  }

  /** The view of the latest round, of one site or all. */
  async current(site: string | undefined): Promise<GateConditions> {
    const round = await this.deps.currentRound();
    const view = this.latest?.asOf === round.at ? this.latest : await this.compute(round);
    return conditionsOfSite(view, site);
  }

  private async compute(round: ZoneKpis): Promise<GateConditions> {
    const { windowMs, thresholds, reseedMs } = this.deps.settings;
    const from = Math.floor(round.at / windowMs) * windowMs;
    const windows = await this.deps.slotBoard.windowsAhead(from, from + conditionsWindowCount * windowMs, round.at, this.deps.clickhouse, reseedMs);
    const groups = conditionsOf({ at: round.at, groups: this.groups, lanes: round.zone.lanes, windows, windowMs, thresholds });
    const view: GateConditions = { asOf: round.at, asOfIso: vietnamIso(round.at), thresholds, groups };
    // A round older than the one already computed (two reads crossing) changes nothing.
    if (this.latest && this.latest.asOf > view.asOf) return view;
    this.latest = view;
    this.publishChanges(groups, round.at);
    if (this.deps.leads()) await this.store(view);
    return view;
  }

  /** Publishes each group whose figures moved; the first round is what snapshots carry, so it is only recorded. */
  private publishChanges(groups: LaneGroupConditions[], at: number): void {
    const first = this.published.size === 0;
    for (const group of groups) {
      const key = laneGroupOf(group);
      const encoded = JSON.stringify({ ...group, asOf: 0, asOfIso: '' });
      if (this.published.get(key) === encoded) continue;
      this.published.set(key, encoded);
      if (!first) this.deps.hub.publish('conditions', group, at);
    }
  }

  private async store(view: GateConditions): Promise<void> {
    try {
      await this.deps.redis.set(gateConditionsKey, JSON.stringify(view), 'PX', this.deps.settings.redisTtlMs);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'gate conditions not written to Redis; the slots service answers 503 once the last view expires');
    }
  }
}
