import { randomUUID } from 'node:crypto';
import type { Logger } from '@tower/shared';
import { alertConditions, alertOf, planAlerts, type Alert, type AlertThresholds } from '../domain/alerts.ts';
import type { ZoneKpis } from '../history/kpi-reader.ts';
import type { AlertLog } from './alert-log.ts';
import type { AlertStore, Operator } from './alert-store.ts';

export interface AlertEngineSettings {
  /** How often the leading instance evaluates the rules on a fresh KPI round. */
  evaluateMs: number;
  /** A cause absent this long clears its alert. */
  clearAfterMs: number;
  /** How long the lead lasts without renewal (an instance that dies hands over after this). */
  leaseMs: number;
  thresholds: AlertThresholds;
}

/**
 * Raises and clears alerts. Every gateway instance runs one; the one holding the lead
 * in Redis evaluates the rules every `evaluateMs` on a fresh KPI round, raises an alert
 * for each new cause and clears those whose cause is gone. Any instance acknowledges.
 * Each change is made in Redis first (atomic, so never two open alerts for a cause, and
 * kept there as unpublished in the same step) and then published; a change not published
 * (Kafka did not take it, or its gateway died first) is published by the leader's next
 * round, so a leader's death never loses one.
 */
export class AlertEngine {
  private readonly lastSeen = new Map<string, number>();
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  /** While another instance leads: a round at the moment its lease lapses. */
  private takeover: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: AlertStore,
    private readonly log: AlertLog,
    private readonly freshRound: (maxAgeMs: number) => Promise<ZoneKpis>,
    private readonly holder: string,
    private readonly settings: AlertEngineSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly newId: () => string = randomUUID,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.evaluate(), this.settings.evaluateMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    clearTimeout(this.takeover);
    await this.running;
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** One round (also called by tests); rounds never overlap. */
  evaluate(): Promise<void> {
    this.running ??= this.round()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'alert rules could not be evaluated this round'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Acknowledges an open alert for an operator; undefined when no such alert is open. Throws when Kafka did not take the change (the caller answers 503; a retry or the leader's next round publishes it). */
  async acknowledge(id: string, operator: Operator): Promise<Alert | undefined> {
    const alert = await this.store.acknowledge(id, operator, this.now());
    if (alert) {
      await this.log.publish(alert);
      await this.store.published(alert);
    }
    return alert;
  }

  private async round(): Promise<void> {
    const { leads, leaseLeftMs } = await this.store.lead(this.holder, this.settings.leaseMs);
    clearTimeout(this.takeover);
    // A leader that died hands over when its lease lapses, not up to a period later at this instance's next round.
    if (!leads && leaseLeftMs >= 0 && !this.stopped) this.takeover = setTimeout(() => void this.evaluate(), leaseLeftMs + 1);
    if (leads !== this.leading) this.logger.info({ holder: this.holder }, leads ? 'leading alert evaluation' : 'another instance leads alert evaluation');
    if (!leads) this.lastSeen.clear();
    this.leading = leads;
    if (!leads) return;
    for (const alert of await this.store.unpublished()) await this.publish(alert);
    const kpis = await this.freshRound(this.settings.evaluateMs);
    const at = this.now();
    const plan = planAlerts(await this.store.open(), alertConditions(kpis.sites.values(), this.settings.thresholds), this.lastSeen, at, this.settings.clearAfterMs);
    for (const condition of plan.raise) {
      const raised = await this.store.raise(alertOf(condition, this.newId(), at));
      if (raised) await this.publish(raised);
    }
    for (const alert of plan.clear) {
      const cleared = await this.store.clear(alert, at);
      if (cleared) await this.publish(cleared);
    }
  }

  private async publish(alert: Alert): Promise<void> {
    try {
      await this.log.publish(alert);
      await this.store.published(alert);
    } catch (error) {
      this.logger.warn({ err: error, alert: alert.id, revision: alert.revision }, 'alert change not published; the leader retries next round');
    }
  }
}
