import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { LagAdmin, reportLag, type LagSample, type Logger } from '@tower/shared';

/** What the lag is measured on: a broadcast feed's stable group name, its topic and how far it has delivered. */
export interface LaggingFeed {
  readonly group: string;
  readonly topic: string;
  readonly positions: ReadonlyMap<number, bigint>;
}

/**
 * How far each broadcast feed of this instance is behind its topic's end, in
 * `tower_consumer_lag_messages{group,topic,partition}` with the other consumers' lag
 * (`group` is the feed's stable name, `tower-live-ticks`, not its per-process group id; a
 * broadcast feed commits nothing): at each scrape, the topic's high watermark minus the
 * next offset the feed will deliver. A partition the feed has delivered nothing from since
 * it joined is measured from the topic's end at the first scrape. When Kafka does not
 * answer within `timeoutMs`, the last values stay.
 */
export class FeedLagMetrics {
  private readonly baseline = new Map<string, bigint>();
  private readonly admin: LagAdmin;
  private readonly stopReporting: () => void;

  constructor(
    kafka: Kafka,
    private readonly feeds: () => readonly LaggingFeed[],
    registry: Registry,
    logger: Logger,
    timeoutMs = 2000,
  ) {
    this.admin = new LagAdmin(kafka);
    this.stopReporting = reportLag(registry, () => this.read(), logger, timeoutMs);
  }

  private read(): Promise<LagSample[]> {
    return this.admin.use(async (admin) => {
      const samples: LagSample[] = [];
      for (const feed of this.feeds()) {
        for (const { partition, high } of await admin.fetchTopicOffsets(feed.topic)) {
          const key = `${feed.topic}/${partition}`;
          const end = BigInt(high);
          const next = feed.positions.get(partition) ?? this.baseline.get(key) ?? end;
          if (!feed.positions.has(partition)) this.baseline.set(key, next);
          samples.push({ group: feed.group, topic: feed.topic, partition, messages: Number(end > next ? end - next : 0n) });
        }
      }
      return samples;
    });
  }

  async stop(): Promise<void> {
    this.stopReporting();
    await this.admin.close();
  }
}
