import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { DecodeError, type EventCodec } from '../events/avro.ts';
import type { FamilyName, TowerEvent } from '../events/model.ts';
import type { Logger } from '../logging.ts';
import type { OutgoingMessage, TowerProducer } from './client.ts';
import { CommittedLag } from './lag.ts';
import { linksOf, runInSpan, SpanKind, type SpanContext, type Tracing } from '../tracing.ts';

/** One decoded event with where it came from; the coordinates make idempotent sinks possible. */
export interface ConsumedEvent {
  topic: string;
  partition: number;
  /** Kafka offsets are int64; kept as bigint so nothing rounds. */
  offset: bigint;
  /** When the ingest API received the event (ms): the message's CreateTime, set by ingest. */
  ingestedAt: number;
  family: FamilyName;
  schemaVersion: number;
  event: TowerEvent;
}

/** The decodable part of one fetched batch of one topic-partition, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  events: ConsumedEvent[];
  /** The last offset of the fetched batch (decodable or not); committed after success. */
  lastOffset: bigint;
  /** The batch's span, when tracing is on and some record of it was traced: what the handler publishes can carry it on. */
  trace?: SpanContext;
}

/** A message the handler cannot process although it decodes; it goes to the dead-letter topic. */
export interface RejectedEvent {
  offset: bigint;
  reason: string;
  detail: string;
}

export interface ConsumerHandler {
  /**
   * Processes one batch. Resolve only when its effect is durable: the runner then
   * commits the offsets. Throw when a dependency fails: the runner retries the same
   * batch with backoff (heartbeating meanwhile) until it succeeds or the partition is
   * revoked, so it must be safe to call again with the same batch.
   */
  handleBatch(batch: PartitionBatch): Promise<RejectedEvent[] | void>;
  /**
   * Called synchronously when this member joins a new group generation, before any batch
   * of it is fetched: drop per-partition state another member may have made stale.
   * (KafkaJS does not await listeners, so this must not be async; load lazily instead.)
   */
  onAssignment?(assignment: Record<string, number[]>): void;
}

export interface ConsumerRunnerSettings {
  kafka: Kafka;
  groupId: string;
  /** topic → the event family every message on it must carry. */
  topics: Readonly<Record<string, FamilyName>>;
  codec: EventCodec;
  /** Shared with the service; used only for dead letters (acks=all). */
  producer: TowerProducer;
  deadLetterTopic: string;
  logger: Logger;
  metrics: Registry;
  /** Start from the earliest retained message when the group has no committed offset. */
  fromBeginning?: boolean;
  retry?: { initialMs: number; maxMs: number };
  /** Fetch sizing: bigger batches mean fewer, larger inserts downstream. */
  maxBytesPerPartition?: number;
  /** The broker holds a fetch until this much data is there or `maxWaitTimeMs` passed. */
  minBytes?: number;
  maxWaitTimeMs?: number;
  sessionTimeoutMs?: number;
  /**
   * Partitions handled at once (default 1). More lets one partition's insert wait
   * overlap another's decoding; each partition still goes batch by batch, in order.
   */
  partitionsConcurrently?: number;
  /** Where a collector is configured: a batch holding traced records gets a span (decode, handle, commit) linked to each. */
  tracing?: Tracing;
}

/** Why the runner is not processing right now; shown by /readyz. */
export interface ConsumerHealth {
  running: boolean;
  failingSince?: number;
  lastError?: string;
}

export const deadLetterHeaders = {
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  reason: 'dlq.reason',
  detail: 'dlq.detail',
  consumer: 'dlq.consumer',
  at: 'dlq.at',
} as const;

class ConsumerMetrics {
  readonly consumed: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;
  readonly batchFailures: Counter<'topic'>;

  constructor(registry: Registry) {
    this.consumed = new Counter({ name: 'tower_consumer_events_total', help: 'Events decoded and handled', labelNames: ['topic'], registers: [registry] });
    this.deadLettered = new Counter({ name: 'tower_consumer_dead_lettered_total', help: 'Messages sent to the dead-letter topic, by reason', labelNames: ['topic', 'reason'], registers: [registry] });
    this.batchFailures = new Counter({ name: 'tower_consumer_batch_failures_total', help: 'Batch attempts that failed and were retried', labelNames: ['topic'], registers: [registry] });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The consumer loop every service uses: decodes each message with the event codec,
 * sends what cannot be decoded (or what the handler rejects) to the dead-letter topic
 * with the reason, hands the rest to the handler one partition batch at a time, and
 * commits offsets only after the handler and the dead letters are durable. A failing
 * handler is retried with exponential backoff while the group membership is kept
 * alive by heartbeats; `health()` says so for readiness.
 */
export class ConsumerRunner {
  private readonly consumer: Consumer;
  private readonly metrics: ConsumerMetrics;
  private readonly lag: CommittedLag;
  private readonly retry: { initialMs: number; maxMs: number };
  /** Partitions whose batch is failing: since when, and the last error. */
  private readonly failing = new Map<string, { since: number; error: string }>();
  private running = false;

  constructor(
    private readonly settings: ConsumerRunnerSettings,
    private readonly handler: ConsumerHandler,
  ) {
    this.retry = settings.retry ?? { initialMs: 250, maxMs: 10_000 };
    this.metrics = new ConsumerMetrics(settings.metrics);
    this.lag = new CommittedLag(settings.kafka, { registry: settings.metrics, logger: settings.logger, group: settings.groupId, topics: Object.keys(settings.topics), fromBeginning: settings.fromBeginning ?? true });
    this.consumer = settings.kafka.consumer({
      groupId: settings.groupId,
      sessionTimeout: settings.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: settings.maxBytesPerPartition ?? 4 * 1024 * 1024,
      // Room for a full batch of every partition handled at once (KafkaJS's default is 10 MiB per fetch).
      maxBytes: Math.max(10 * 1024 * 1024, (settings.maxBytesPerPartition ?? 4 * 1024 * 1024) * (settings.partitionsConcurrently ?? 1)),
      minBytes: settings.minBytes ?? 1,
      maxWaitTimeInMs: settings.maxWaitTimeMs ?? 250,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment;
      settings.logger.info({ group: settings.groupId, assignment }, 'partitions assigned');
      this.handler.onAssignment?.(assignment);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      settings.logger.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed');
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: Object.keys(this.settings.topics), fromBeginning: this.settings.fromBeginning ?? true });
    this.running = true;
    this.lag.report();
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConcurrently ?? 1,
      eachBatch: (payload) => (this.settings.tracing ? this.processTracedBatch(payload, this.settings.tracing) : this.processBatch(payload)),
    });
  }

  /** Stops fetching, lets the batch in hand finish (its offsets are committed), leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
    await this.lag.stop();
  }

  health(): ConsumerHealth {
    const oldest = [...this.failing.values()].sort((a, b) => a.since - b.since)[0];
    return { running: this.running, ...(oldest ? { failingSince: oldest.since, lastError: oldest.error } : {}) };
  }

  /**
   * One batch, many parents: the span links to each sampled record's context (not a
   * child of any) and covers decoding, handling and the commit. A batch without traced
   * records gets no span.
   */
  private async processTracedBatch(payload: EachBatchPayload, tracing: Tracing): Promise<void> {
    const links = linksOf(payload.batch.messages.map((message) => message.headers));
    if (links.length === 0) return this.processBatch(payload);
    const { topic, partition } = payload.batch;
    const span = tracing.startSpan(`process ${topic}`, {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
        'messaging.consumer.group.name': this.settings.groupId,
        'messaging.batch.message_count': payload.batch.messages.length,
      },
    });
    return runInSpan(span, () => this.processBatch(payload, span.spanContext()));
  }

  private async processBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload, trace?: SpanContext): Promise<void> {
    if (batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const family = this.settings.topics[topic];
    if (!family) throw new Error(`subscribed to ${topic} without a family`);
    const events: ConsumedEvent[] = [];
    const undecodable: { message: KafkaMessage; reason: string; detail: string }[] = [];
    for (const message of batch.messages) {
      try {
        if (!message.value) throw new DecodeError('not-single-object', 'empty message value');
        const decoded = this.settings.codec.decode(message.value, family);
        events.push({ topic, partition, offset: BigInt(message.offset), ingestedAt: Number(message.timestamp), family: decoded.family, schemaVersion: decoded.version, event: decoded.event });
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        undecodable.push({ message, reason: error.reason, detail: error.message });
      }
    }
    const lastOffset = BigInt(batch.lastOffset());
    let delay = this.retry.initialMs;
    for (;;) {
      if (!isRunning() || isStale()) return; // revoked or stopping: the next owner re-reads from the committed offset
      try {
        const rejected = events.length > 0 ? ((await this.handler.handleBatch({ topic, partition, events, lastOffset, trace })) ?? []) : [];
        const deadLetters = [...undecodable];
        for (const rejection of rejected) {
          const message = batch.messages.find((m) => BigInt(m.offset) === rejection.offset);
          if (!message) throw new Error(`handler rejected offset ${rejection.offset}, which is not in the batch`);
          deadLetters.push({ message, reason: rejection.reason, detail: rejection.detail });
        }
        await this.sendDeadLetters(topic, partition, deadLetters);
        break;
      } catch (error) {
        this.metrics.batchFailures.inc({ topic });
        this.failing.set(`${topic}:${partition}`, { since: this.failing.get(`${topic}:${partition}`)?.since ?? Date.now(), error: error instanceof Error ? error.message : String(error) });
        this.settings.logger.warn({ err: error, topic, partition, retryInMs: delay }, 'batch failed; retrying');
        await this.waitHeartbeating(delay, heartbeat);
        delay = Math.min(delay * 2, this.retry.maxMs);
      }
    }
    this.failing.delete(`${topic}:${partition}`);
    resolveOffset(batch.lastOffset());
    await this.consumer.commitOffsets([{ topic, partition, offset: (lastOffset + 1n).toString() }]);
    this.metrics.consumed.inc({ topic }, events.length);
    await heartbeat();
  }

  private async waitHeartbeating(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await sleep(Math.min(2000, until - Date.now()));
      try {
        await heartbeat();
      } catch (error) {
        // A rebalance: the loop sees isStale() and lets the partition go.
        this.settings.logger.info({ err: error }, 'heartbeat during retry failed');
        return;
      }
    }
  }

  private async sendDeadLetters(topic: string, partition: number, letters: { message: KafkaMessage; reason: string; detail: string }[]): Promise<void> {
    if (letters.length === 0) return;
    const at = String(Date.now());
    const messages: OutgoingMessage[] = letters.map(({ message, reason, detail }) => ({
      key: message.key,
      value: message.value ?? Buffer.alloc(0),
      headers: {
        [deadLetterHeaders.sourceTopic]: topic,
        [deadLetterHeaders.sourcePartition]: String(partition),
        [deadLetterHeaders.sourceOffset]: message.offset,
        [deadLetterHeaders.reason]: reason,
        [deadLetterHeaders.detail]: detail.slice(0, 1000),
        [deadLetterHeaders.consumer]: this.settings.groupId,
        [deadLetterHeaders.at]: at,
      },
    }));
    await this.settings.producer.send([{ topic: this.settings.deadLetterTopic, messages }]);
    for (const letter of letters) this.metrics.deadLettered.inc({ topic, reason: letter.reason });
    this.settings.logger.warn({ topic, partition, count: letters.length, reasons: [...new Set(letters.map((l) => l.reason))] }, 'messages dead-lettered');
  }
}
