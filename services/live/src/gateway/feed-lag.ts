import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@tower/shared';

/** What the lag is measured on: a broadcast feed's stable group name, its topic and how far it has delivered. */
export interface LaggingFeed {
  readonly group: string;
  readonly topic: string;
  readonly positions: ReadonlyMap<number, bigint>;
}

/**
 * How far each broadcast feed of this instance is behind its topic's end, as
 * `tower_consumer_lag_messages{group,topic,partition}` (the name and labels the other
 * services' consumers use, so a dashboard or the load kit sums them alike; `group` is the
 * feed's stable name, `tower-live-ticks`, not its per-process group id): at each scrape, the topic's high
 * watermark minus the next offset the feed will deliver. A partition the feed has
 * delivered nothing from since it joined is measured from the topic's end at the first
 * scrape. When Kafka does not answer within `timeoutMs`, the last values stay.
 */
export class FeedLagMetrics {
  private readonly baseline = new Map<string, bigint>();
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly feeds: () => readonly LaggingFeed[],
    registry: Registry,
    private readonly logger: Logger,
    private readonly timeoutMs = 2000,
  ) {
    const sample = (gauge: Gauge<'group' | 'topic' | 'partition'>) => this.sample(gauge);
    new Gauge({
      name: 'tower_consumer_lag_messages',
      help: 'High watermark minus the next offset to process, per consumer group and partition (the live gateway: its broadcast feeds)',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      async collect() {
        await sample(this);
      },
    });
  }

  private async sample(gauge: Gauge<'group' | 'topic' | 'partition'>): Promise<void> {
    try {
      this.connected ??= this.admin.connect();
      await this.connected;
      for (const feed of this.feeds()) {
        const offsets = await withTimeout(this.admin.fetchTopicOffsets(feed.topic), this.timeoutMs);
        for (const { partition, high } of offsets) {
          const key = `${feed.topic}/${partition}`;
          const end = BigInt(high);
          const next = feed.positions.get(partition) ?? this.baseline.get(key) ?? end;
          if (!feed.positions.has(partition)) this.baseline.set(key, next);
          gauge.set({ group: feed.group, topic: feed.topic, partition: String(partition) }, Number(end > next ? end - next : 0n));
        }
      }
    } catch (error) {
      this.connected = undefined;
      this.logger.warn({ err: error }, 'broadcast feed lag not sampled: the last values stay');
    }
  }

  async stop(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
