import os from 'node:os';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import { decodeJourneyUpdate, decodeSlotMessage, decodeTick, type Logger } from '@tower/shared';
import { linksOf, runInSpan, SpanKind, type Tracing } from '@tower/shared/tracing';
import { decodeAlert } from './alert-log.ts';
import type { LiveHub } from './hub.ts';
import type { SlotBoard } from './slot-board.ts';

/** Makes each process's broadcast groups its own: host, pid and start time. */
const processSuffix = `${os.hostname()}-${process.pid}-${Date.now().toString(36)}`;

/**
 * A topic read as a broadcast (throughput ticks, alert changes): each gateway instance
 * reads all of it in a consumer group of its own (`<group>-<host>-<pid>-<start>`), from
 * the newest offset (history comes from ClickHouse and Redis), so instances side by side
 * serve the same stream to their own clients. `group` is the stable name the lag is
 * reported under. A message `deliver` cannot take is logged and skipped: a broadcast
 * reader must never stall on one bad message.
 */
export class BroadcastFeed {
  private readonly consumer: Consumer;
  private joined = false;
  /** Next offset to deliver, by partition: after the last batch delivered. */
  private readonly next = new Map<number, bigint>();

  constructor(
    kafka: Kafka,
    readonly topic: string,
    readonly group: string,
    private readonly deliver: (value: Buffer, headers: IHeaders | undefined) => void,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: `${group}-${processSuffix}`, maxWaitTimeInMs: 100, sessionTimeout: 10_000, allowAutoTopicCreation: false });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: false });
    // Nothing is committed: a restarted instance starts from the newest message again.
    // A fetched batch is delivered in one synchronous loop: its deltas reach each socket
    // in the same event-loop turn, and the gateway's write batcher sends them in one write.
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          try {
            this.deliver(message.value ?? Buffer.alloc(0), message.headers);
          } catch (error) {
            this.logger.warn({ err: error, topic: this.topic, partition: batch.partition, offset: message.offset }, 'skipped a broadcast message that could not be read');
          }
        }
        this.next.set(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
  }

  /** Next offset to deliver of each partition a batch came from (a partition with none delivered yet is absent). */
  get positions(): ReadonlyMap<number, bigint> {
    return this.next;
  }

  /** In the group with partitions assigned: messages published from now on arrive. */
  get ready(): boolean {
    return this.joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/**
 * `tower.throughput.v1` into the hub (board and `throughput` streams). Where tracing is
 * on, a tick that carries the aggregator's `traceparent` is delivered in a short span
 * linked to it (onto the board and into the clients' write queues).
 */
export function tickFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger, tracing?: Tracing): BroadcastFeed {
  return new BroadcastFeed(
    kafka,
    topic,
    group,
    (value, headers) => {
      const tick = decodeTick(value);
      const links = tracing && headers?.['traceparent'] !== undefined ? linksOf([headers]) : [];
      if (!tracing || links.length === 0) return hub.publishTick(tick, Date.now());
      const span = tracing.startSpan('deliver tick', { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.destination.name': topic, 'tower.site': tick.site, 'tower.lane': tick.lane } });
      runInSpan(span, () => hub.publishTick(tick, Date.now()));
    },
    logger,
  );
}

/** `tower.alerts.v1` into the hub (`alerts` streams). */
export function alertFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger): BroadcastFeed {
  return new BroadcastFeed(kafka, topic, group, (value) => hub.publish('alerts', decodeAlert(value), Date.now()), logger);
}

/** `tower.journeys.v1` into the hub (`journeys` streams). */
export function journeyFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger): BroadcastFeed {
  return new BroadcastFeed(kafka, topic, group, (value) => hub.publish('journeys', decodeJourneyUpdate(value), Date.now()), logger);
}

/**
 * `tower.slots.v1` into the hub: a window's places on `slots`, a booking's new state on
 * `bookings` (each firm's stream sees only its own). Duplicates (a change the outbox
 * relay published again) are dropped by the board.
 */
export function slotFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, board: SlotBoard, logger: Logger): BroadcastFeed {
  return new BroadcastFeed(
    kafka,
    topic,
    group,
    (value) => {
      const now = Date.now();
      const change = decodeSlotMessage(value);
      if (change.kind === 'availability') {
        if (board.putWindow(change.availability, now)) hub.publish('slots', change.availability, now);
      } else if (board.putBooking(change.booking, now)) hub.publish('bookings', change.booking, now);
    },
    logger,
  );
}
