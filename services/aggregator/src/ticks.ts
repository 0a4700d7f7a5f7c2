import type { Logger, ThroughputTick, TowerProducer } from '@tower/shared';
import { windowKey, type LiveWindows } from './domain/windows.ts';
import type { AggregatorMetrics } from './metrics.ts';
import type { EventStore } from './store.ts';

/**
 * Publishes the windows that changed since the last round as ticks on the throughput
 * topic, about once a second. Figures are read back from the stored aggregates, so a
 * tick never disagrees with the history, whatever restarts or other members did.
 * A round that fails puts its windows back for the next one.
 */
export class TickPublisher {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<unknown> | undefined;

  constructor(
    private readonly windows: LiveWindows,
    private readonly store: EventStore,
    private readonly producer: TowerProducer,
    private readonly topic: string,
    private readonly metrics: AggregatorMetrics,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.round ??= this.publish().finally(() => (this.round = undefined));
    }, this.intervalMs);
  }

  /** Stops the timer and publishes what is still pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
    await this.publish();
  }

  async publish(): Promise<number> {
    const changes = this.windows.drain();
    if (changes.length === 0) return 0;
    try {
      const stored = await this.store.windows(changes);
      const byKey = new Map(stored.map((w) => [windowKey(w), w]));
      const publishedAt = Date.now();
      const ticks: ThroughputTick[] = [];
      for (const change of changes) {
        const window = byKey.get(windowKey(change));
        if (!window) continue;
        ticks.push({
          site: change.site,
          lane: change.lane,
          direction: change.direction,
          laneKind: change.laneKind,
          windowStart: change.windowStart * 1000,
          windowEnd: change.windowStart * 1000 + 60_000,
          final: this.windows.isFinal(change.windowStart, publishedAt),
          correction: change.late,
          ...window.measures,
          newestIngestedAt: change.newestIngestedAt,
          publishedAt,
        });
      }
      await this.producer.send([{ topic: this.topic, messages: ticks.map((tick) => ({ key: `${tick.site}/${tick.lane}`, value: JSON.stringify(tick) })) }]);
      this.metrics.ticksPublished.inc(ticks.length);
      this.metrics.watermark.set(Math.max(0, this.windows.watermark(publishedAt) / 1000));
      return ticks.length;
    } catch (error) {
      this.windows.restore(changes);
      this.metrics.tickFailures.inc();
      this.logger.warn({ err: error, windows: changes.length }, 'tick round failed; retrying next round');
      return 0;
    }
  }
}
