import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { classifyError, type ErrorClass } from '../errors.ts';
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
   * commits the offsets. Throw when it fails; the runner classifies the error
   * (`classifyError`): transient (a dependency away) retries the same batch with backoff
   * (heartbeating meanwhile) until it succeeds or the partition is revoked; permanent
   * (the data refused) splits the batch in halves, handled in offset order, down to the
   * message that fails alone, which is dead-lettered with the error as its reason;
   * unknown is retried like transient until it failed `unknownAttempts` times and for
   * `unknownFloorMs`, then split like permanent, unless the split finds an outage: its
   * parts fail alike and none succeeds, and the whole batch is retried again. So it must
   * be safe to call again with the same batch, or with a part of it (offset order kept).
   * A rejection of an offset not in the batch is a bug: the runner crashes on it.
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
  /** Attempts of a batch failing with an error of unknown class before it is split to find the poison (default 5). */
  unknownAttempts?: number;
  /** And how long it must have been failing with it first (default 60 s): an outage of a kind no class covers is not poison. */
  unknownFloorMs?: number;
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
  /** transient, permanent, unknown for a handler's failure; decode or rejected otherwise. */
  errorKind: 'dlq.error.kind',
} as const;

/** KafkaJS's error types for a commit refused because the group has rebalanced. */
const rebalanceErrorTypes = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);

/** How many times a batch failing with an error of unknown class is tried before it is split (`unknownAttempts`). */
export const defaultUnknownAttempts = 5;
/** How long a batch must have been failing before an error of unknown class splits it (`unknownFloorMs`). */
export const defaultUnknownFloorMs = 60_000;

/** A split that found no poison: every part it tried failed as the whole did and none succeeded. */
const outage = Symbol('outage');

/** One split of a batch, down to its smallest parts: the error that started it and whether any part has succeeded since. */
interface SplitRun {
  kind: ErrorClass;
  detail: string;
  succeeded: boolean;
}

/** A message on its way to the dead-letter topic. */
interface DeadLetter {
  message: KafkaMessage;
  reason: string;
  detail: string;
  kind: 'decode' | 'rejected' | ErrorClass;
}

/** The part of a fetched batch being handled, and how to keep the membership meanwhile. */
interface BatchScope {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  trace?: SpanContext;
  heartbeat: () => Promise<void>;
  gone: () => boolean;
}

class ConsumerMetrics {
  readonly consumed: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;
  readonly batchFailures: Counter<'topic'>;
  readonly failuresByClass: Counter<'topic' | 'class'>;

  constructor(registry: Registry) {
    this.failuresByClass = new Counter({ name: 'tower_consumer_handler_failures_total', help: 'Handler attempts that failed, by the class of the error (transient, permanent, unknown)', labelNames: ['topic', 'class'], registers: [registry] });
    this.consumed = new Counter({ name: 'tower_consumer_events_total', help: 'Events decoded and handled, not those the handler rejected or failed on alone (counted as dead-lettered)', labelNames: ['topic'], registers: [registry] });
    this.deadLettered = new Counter({ name: 'tower_consumer_dead_lettered_total', help: 'Messages sent to the dead-letter topic, by reason', labelNames: ['topic', 'reason'], registers: [registry] });
    this.batchFailures = new Counter({ name: 'tower_consumer_batch_failures_total', help: 'Batch attempts that failed and were retried', labelNames: ['topic'], registers: [registry] });
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

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
  private readonly unknownAttempts: number;
  private readonly unknownFloorMs: number;
  /** Partitions whose batch is failing: since when, and the last error. */
  private readonly failing = new Map<string, { since: number; error: string }>();
  private running = false;

  constructor(
    private readonly settings: ConsumerRunnerSettings,
    private readonly handler: ConsumerHandler,
  ) {
    this.retry = settings.retry ?? { initialMs: 250, maxMs: 10_000 };
    this.unknownAttempts = settings.unknownAttempts ?? defaultUnknownAttempts;
    this.unknownFloorMs = settings.unknownFloorMs ?? defaultUnknownFloorMs;
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
      // Not restarting: readiness must say so rather than report a consumer that no longer runs.
      if (!event.payload.restart) this.running = false;
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
    const undecodable: DeadLetter[] = [];
    for (const message of batch.messages) {
      try {
        if (!message.value) throw new DecodeError('not-single-object', 'empty message value');
        const decoded = this.settings.codec.decode(message.value, family);
        events.push({ topic, partition, offset: BigInt(message.offset), ingestedAt: Number(message.timestamp), family: decoded.family, schemaVersion: decoded.version, event: decoded.event });
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        undecodable.push({ message, reason: error.reason, detail: error.message, kind: 'decode' });
      }
    }
    const lastOffset = BigInt(batch.lastOffset());
    const scope: BatchScope = { topic, partition, messages: batch.messages, trace, heartbeat, gone: () => !isRunning() || isStale() };
    const handled = await this.handle(scope, events, lastOffset);
    if (!handled || handled === outage) return; // revoked or stopping: the next owner re-reads from the committed offset (an outage the whole batch retries itself: never here)
    for (let delay = this.retry.initialMs; ; delay = Math.min(delay * 2, this.retry.maxMs)) {
      if (scope.gone()) return;
      try {
        await this.sendDeadLetters(topic, partition, [...undecodable, ...handled].sort((a, b) => Number(BigInt(a.message.offset) - BigInt(b.message.offset))));
        break;
      } catch (error) {
        await this.noteFailure(scope, error, 'transient', delay);
      }
    }
    this.failing.delete(`${topic}:${partition}`);
    resolveOffset(batch.lastOffset());
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: (lastOffset + 1n).toString() }]);
    } catch (error) {
      // The group moved on while the batch was handled: its next owner reads it again from the committed offset (handling is idempotent).
      const { type, cause } = error as { type?: string; cause?: { type?: string } };
      if (!rebalanceErrorTypes.has(type ?? cause?.type ?? '')) throw error;
      this.settings.logger.warn({ err: error, topic, partition }, 'offsets not committed: the partition was reassigned while its batch was handled');
      return;
    }
    // Dead letters the handler made (rejected or refused) are counted there, not as handled.
    this.metrics.consumed.inc({ topic }, events.length - handled.length);
    await heartbeat();
  }

  /**
   * Hands `events` to the handler until it succeeds; what it fails on for good is split
   * in halves (offset order kept) down to the events that fail alone. Returns the dead
   * letters (rejections and refused events), or undefined when the partition went away.
   * `run`: this is a part of a split, tried once before it is split in turn when it
   * fails with the run's class (a transient error retries it, another class splits it
   * in a run of its own); `outage` when, in a run of an unknown error, it is a second
   * half that failed with the same error while nothing of the run succeeded yet (its
   * first half failed alike, down to its first message). Whoever started the run
   * retries its part with backoff on an outage.
   */
  private async handle(scope: BatchScope, events: ConsumedEvent[], lastOffset: bigint, run?: SplitRun, secondHalf = false): Promise<DeadLetter[] | typeof outage | undefined> {
    if (events.length === 0) return [];
    let delay = this.retry.initialMs;
    let failingSince: number | undefined;
    for (let unknownFailures = 0; ; ) {
      if (scope.gone()) return undefined;
      // Splitting a batch takes many handler calls: keep the membership meanwhile (KafkaJS sends at most one per heartbeat interval).
      await scope.heartbeat().catch((error: unknown) => this.settings.logger.info({ err: error }, 'heartbeat between attempts failed'));
      let rejected: RejectedEvent[];
      try {
        rejected = (await this.handler.handleBatch({ topic: scope.topic, partition: scope.partition, events, lastOffset, trace: scope.trace })) ?? [];
      } catch (error) {
        const kind = classifyError(error);
        failingSince ??= Date.now();
        if (kind === 'unknown') unknownFailures += 1;
        if (kind === 'unknown' && run?.kind === 'unknown' && secondHalf && !run.succeeded && messageOf(error) === run.detail) return outage;
        const givingUp = kind === 'permanent' || (kind === 'unknown' && (run?.kind === 'unknown' || (unknownFailures >= this.unknownAttempts && Date.now() - failingSince >= this.unknownFloorMs)));
        if (givingUp) {
          const own = run?.kind === kind ? undefined : { kind, detail: messageOf(error), succeeded: false };
          const letters = await this.split(scope, events, error, kind, own ?? run!);
          if (letters !== outage || !own) return letters;
          this.settings.logger.warn({ topic: scope.topic, partition: scope.partition, events: events.length, err: error }, 'every part of the batch fails as the whole does: an outage, not poison; retrying the batch');
          unknownFailures = 0;
        }
        await this.noteFailure(scope, error, kind, delay);
        delay = Math.min(delay * 2, this.retry.maxMs);
        continue;
      }
      if (run) run.succeeded = true;
      this.failing.delete(`${scope.topic}:${scope.partition}`);
      // Outside the handler's try: a rejection of an offset not in the batch is a bug to crash on, not an error to dead-letter data for.
      return rejected.map((rejection) => {
        const message = scope.messages.find((m) => BigInt(m.offset) === rejection.offset);
        if (!message) throw new Error(`handler rejected offset ${rejection.offset}, which is not in the batch`);
        return { message, reason: rejection.reason, detail: rejection.detail, kind: 'rejected' as const };
      });
    }
  }

  /**
   * A part that fails for good: one event is dead-lettered with the error; more are
   * halved and handled in order; `outage` when the second half found one.
   */
  private async split(scope: BatchScope, events: ConsumedEvent[], error: unknown, kind: ErrorClass, run: SplitRun): Promise<DeadLetter[] | typeof outage | undefined> {
    this.metrics.failuresByClass.inc({ topic: scope.topic, class: kind });
    const detail = messageOf(error);
    if (events.length === 1) {
      const message = scope.messages.find((m) => BigInt(m.offset) === events[0]!.offset)!;
      this.settings.logger.warn({ topic: scope.topic, partition: scope.partition, offset: message.offset, kind, err: error }, 'the handler fails on this message alone; dead-lettering it');
      return [{ message, reason: `handler-${kind}`, detail, kind }];
    }
    this.settings.logger.warn({ topic: scope.topic, partition: scope.partition, events: events.length, kind, err: error }, 'batch failed for good; splitting it to find the messages it fails on');
    const half = Math.ceil(events.length / 2);
    const letters: DeadLetter[] = [];
    for (const [index, part] of [events.slice(0, half), events.slice(half)].entries()) {
      const partLetters = await this.handle(scope, part, part.at(-1)!.offset, run, index === 1);
      if (!partLetters || partLetters === outage) return partLetters;
      letters.push(...partLetters);
    }
    return letters;
  }

  private async noteFailure(scope: BatchScope, error: unknown, kind: ErrorClass, retryInMs: number): Promise<void> {
    const { topic, partition } = scope;
    this.metrics.batchFailures.inc({ topic });
    this.metrics.failuresByClass.inc({ topic, class: kind });
    this.failing.set(`${topic}:${partition}`, { since: this.failing.get(`${topic}:${partition}`)?.since ?? Date.now(), error: messageOf(error) });
    this.settings.logger.warn({ err: error, topic, partition, kind, retryInMs }, 'batch failed; retrying');
    await this.waitHeartbeating(retryInMs, scope.heartbeat);
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

  private async sendDeadLetters(topic: string, partition: number, letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const at = String(Date.now());
    const messages: OutgoingMessage[] = letters.map(({ message, reason, detail, kind }) => ({
      key: message.key,
      value: message.value ?? Buffer.alloc(0),
      // The source's own headers (device, trace) travel on, so a replay re-publishes the message as it was.
      headers: {
        ...message.headers,
        [deadLetterHeaders.errorKind]: kind,
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
