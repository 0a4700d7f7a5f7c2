import type { Consumer, Kafka } from 'kafkajs';
import { TickDecodeError, decodeTick, type Logger } from '@tower/shared';
import type { LiveHub } from './hub.ts';

/**
 * The throughput ticks as a broadcast: each gateway instance reads the whole topic in a
 * consumer group of its own, from the newest offset (the history comes from
 * ClickHouse), so instances side by side serve the same stream to their own clients.
 */
export class TickFeed {
  private readonly consumer: Consumer;
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly hub: LiveHub,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, allowAutoTopicCreation: false });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    // Nothing is committed: a restarted instance starts from the newest tick again.
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        try {
          this.hub.publishTick(decodeTick(message.value ?? Buffer.alloc(0)), Date.now());
        } catch (error) {
          if (!(error instanceof TickDecodeError)) throw error;
          this.logger.warn({ err: error, offset: message.offset }, 'skipped a message that is not a throughput tick');
        }
      },
    });
  }

  /** In the group with partitions assigned: ticks published from now on arrive. */
  get ready(): boolean {
    return this.joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
