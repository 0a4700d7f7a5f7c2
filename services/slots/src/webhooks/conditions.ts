import { createHash } from 'node:crypto';
import type { ConditionLevel, ConditionThresholds, GateConditions, LaneGroupConditions } from '@tower/shared';
import { deliveriesOf } from './fan-out.ts';
import type { QueuedDelivery, SeenLevel, StoredEndpoint, WebhookStore } from './store.ts';

/**
 * The event of a lane group's level crossing a threshold (normal, busy, congested, closed:
 * the live service's judgement, its thresholds in the event): one id per crossing, from the
 * group, the level left and how many levels the group had before it, so every slots
 * instance that sees the same crossing makes the same event and it is queued once.
 */
export function conditionsEventOf(group: LaneGroupConditions, from: SeenLevel, thresholds: ConditionThresholds) {
  const key = `${group.site}|${group.laneKind}|${group.direction}`;
  const id = `evt_${createHash('sha256').update(`conditions|${key}|${from.version}|${from.level}|${group.level}`).digest('hex').slice(0, 24)}`;
  return { id, type: 'conditions.threshold-crossed' as const, occurredAt: group.asOfIso, from: from.level, to: group.level as ConditionLevel, conditions: group, thresholds };
}

/**
 * Watches the gate conditions the live service keeps in Redis (`read`) and tells each
 * crossing of a lane group's level to every endpoint that subscribes to
 * `conditions.threshold-crossed`, queued per lane group. A new level is told once it has
 * held for `settleMs` by the views' own clock (asOf): a queue hovering at a threshold,
 * busy one round and normal the next, tells nothing until one of them lasts. What each
 * group's level was is kept in Redis with a count of its levels: a round queues the
 * crossing's deliveries (idempotent by event id), then moves the level on only if no
 * other instance did meanwhile, so however many slots instances watch, a crossing is
 * queued once, and one that dies between the two steps leaves it to the next round. A
 * group seen for the first time is only remembered (no event at start-up); no view (the
 * live service away) tells nothing.
 */
export class ConditionsWatcher {
  constructor(
    private readonly store: WebhookStore,
    private readonly settleMs: number,
    private readonly read: () => Promise<GateConditions | undefined>,
    private readonly queue: (deliveries: readonly QueuedDelivery[]) => Promise<void>,
    private readonly now: () => number,
  ) {}

  async round(): Promise<void> {
    const view = await this.read();
    if (!view) return;
    const seen = await this.store.seenLevels();
    let subscribers: StoredEndpoint[] | undefined;
    for (const group of view.groups) {
      const key = `${group.site}|${group.laneKind}|${group.direction}`;
      const from = seen.get(key);
      if (!from) {
        await this.store.setLevel(key, 0, { level: group.level, version: 1 });
      } else if (from.level === group.level) {
        if (from.pending !== undefined) await this.store.setLevel(key, from.version, { level: from.level, version: from.version });
      } else {
        const since = from.pending === group.level && from.pendingSince !== undefined ? from.pendingSince : group.asOf;
        if (group.asOf - since >= this.settleMs) {
          subscribers ??= await this.subscribers();
          await this.queue(deliveriesOf(conditionsEventOf(group, from, view.thresholds), subscribers, `conditions:${key}`, this.now()));
          await this.store.setLevel(key, from.version, { level: group.level, version: from.version + 1 });
        } else if (since === group.asOf) {
          await this.store.setLevel(key, from.version, { level: from.level, version: from.version, pending: group.level, pendingSince: since });
        }
      }
    }
  }

  private async subscribers(): Promise<StoredEndpoint[]> {
    const endpoints = await Promise.all((await this.store.firms()).map((firm) => this.store.endpointsOf(firm)));
    return endpoints.flat().filter((e) => e.events.includes('conditions.threshold-crossed'));
  }
}
