import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../http.ts';
import type { Logger } from '../logging.ts';
import { linksOf, runInSpan, SpanKind, type SpanContext, type Tracing } from '../tracing.ts';
import { BatchProcessor, ConsumerMetrics, whileHeartbeating, type BatchScope, type ConsumerHandler, type DeadLetter, type MessageDecoder, type Positioned } from './batch.ts';
import type { OutgoingMessage, TowerProducer } from './client.ts';
import type { ConsumedEvent } from './decoders.ts';
import { CommittedLag, DeliveredLag } from './lag.ts';

export * from './batch.ts';
export * from './decoders.ts';

/**
 * A consumer group shared by the instances of a service: each partition is read by one
 * member, offsets are committed after the handler's outcome is acted on, and what fails
 * for good goes to the dead-letter topic.
 */
export interface GroupMode {
  kind: 'group';
  groupId: string;
  /** Start from the earliest retained message when the group has no committed offset (default), else from the end. */
  fromBeginning?: boolean;
  /**
   * Where dead letters go (acks=all; the producer is the service's). Without: nothing can
   * be dead-lettered, so what would be is retried with backoff however long it fails (the
   * dead-letter archive: a dead letter has nowhere further to go).
   */
  deadLetters?: { topic: string; producer: TowerProducer };
}

/**
 * Every instance reads all of its topics (the gateways' live feeds): a group of its own
 * (`<name>-<host>-<pid>-<random>`), from the newest offset (history comes from ClickHouse
 * and Redis), nothing committed (a restarted process starts from the newest message
 * again; a consumer restarted after a crash within the process resumes after what it
 * had delivered, so its clients miss nothing published meanwhile), no dead-letter topic: a message it cannot decode or deliver is counted in
 * `tower_consumer_skipped_total` and logged. An error of unknown class skips after its
 * first failure (a live feed must not stall on a bad message); `retry` and transient
 * errors are retried with backoff.
 */
export interface BroadcastMode {
  kind: 'broadcast';
  /** The stable name its lag is reported under (`tower-live-ticks`), not the per-instance group id. */
  name: string;
}

export interface ConsumerRunnerSettings<T extends Positioned> {
  kafka: Kafka;
  mode: GroupMode | BroadcastMode;
  topics: readonly string[];
  decoder: MessageDecoder<T>;
  logger: Logger;
  metrics: Registry;
  retry?: { initialMs: number; maxMs: number };
  /** Attempts of a batch failing with an error of unknown class before it is split to find the poison (default 5; 1 for a broadcast reader). */
  unknownAttempts?: number;
  /** And how long it must have been failing with it first (default 60 s; 0 for a broadcast reader): an outage of a kind no class covers is not poison. */
  unknownFloorMs?: number;
  /** Fetch sizing: bigger batches mean fewer, larger inserts downstream. */
  maxBytesPerPartition?: number;
  /** The broker holds a fetch until this much data is there or `maxWaitTimeMs` passed (default 250 ms; 100 for a broadcast reader). */
  minBytes?: number;
  maxWaitTimeMs?: number;
  /** Default 30 s; 10 s for a broadcast reader. */
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
  /** Started and not stopped (a crashed consumer being restarted still runs). */
  running: boolean;
  /**
   * In its group and fetching since the last (re)start: its first fetch has placed it
   * on its partitions (a new broadcast reader at their ends), so messages published from
   * now on arrive. (Joining alone is not that: the offsets are resolved at the first fetch.)
   */
  reading: boolean;
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

/** How long a consumer must run after joining, without a crash, before a next crash restarts it at the initial delay again (or a batch got through). */
export const steadyAfterMs = 60_000;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Why a crash happened, in words an operator can act on: KafkaJS reads gzip only, so a
 * topic whose compression.type was set to snappy, lz4 or zstd crashes every fetch.
 */
function crashReason(error: unknown): string {
  const message = messageOf(error);
  if (error instanceof Error && error.name === 'KafkaJSNotImplemented' && /compression/i.test(message)) {
    return `${message}: a topic holds batches compressed with a codec this consumer cannot read (KafkaJS reads none or gzip); set the topic's compression.type back to producer`;
  }
  return message;
}

/**
 * The one consumer loop of every service, in either mode (`GroupMode`, `BroadcastMode`):
 * decodes each message with the consumer's decoder, hands what decodes to the handler
 * one partition batch at a time and acts on its outcome (`HandlerOutcome`: commit,
 * dead-letter, retry with backoff while heartbeats keep the membership), and only then
 * moves on: a group commits its offsets after the handler and the dead letters are
 * durable. Its lag is in `tower_consumer_lag_messages`, its state in `health()` for
 * readiness. A crash KafkaJS restarts itself (a retriable error) shows in health until
 * the group is joined again; one it gives up on is restarted here, with backoff, so a
 * consumer never silently stops: readiness fails meanwhile. The backoff and the
 * "failing since" of crashes in a row grow until it runs steadily again (a batch
 * through, or `steadyAfterMs` without a crash), not merely until it joins.
 */
export class ConsumerRunner<T extends Positioned = ConsumedEvent> {
  /** The group id it reads in: a broadcast reader's is its own. */
  readonly groupId: string;
  /** The stable name of the consumer: the group id of a group, the name of a broadcast reader. */
  readonly name: string;
  private readonly consumer: Consumer;
  private readonly metrics: ConsumerMetrics;
  private readonly processor: BatchProcessor<T>;
  private readonly lag: CommittedLag | DeliveredLag;
  private readonly retry: { initialMs: number; maxMs: number };
  /** A broadcast reader's next offset to deliver, by `topic:partition`: after the last batch delivered. */
  private readonly next = new Map<string, bigint>();
  private running = false;
  private reading = false;
  /** The crash it is recovering from, until the group is joined again: shown by health. */
  private crash: { since: number; error: string } | undefined;
  /**
   * The crashes since it last ran steadily (a batch through, or `steadyAfterMs` after a
   * join without a crash): since when, and the delay of the next restart. A join alone
   * does not end them: a crash right after each join (a non-retriable fetch or commit
   * error) must back off, not leave and rejoin the group four times a second.
   */
  private crashes: { since: number; restartDelayMs: number } | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private steadyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: ConsumerRunnerSettings<T>,
    private readonly handler: ConsumerHandler<T>,
  ) {
    const { mode, kafka, logger } = settings;
    const broadcast = mode.kind === 'broadcast';
    this.name = broadcast ? mode.name : mode.groupId;
    this.groupId = broadcast ? `${mode.name}-${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}` : mode.groupId;
    this.retry = settings.retry ?? { initialMs: 250, maxMs: 10_000 };
    this.metrics = ConsumerMetrics.of(settings.metrics);
    this.processor = new BatchProcessor({
      decoder: settings.decoder,
      handler,
      logger,
      metrics: this.metrics,
      retry: this.retry,
      unknownAttempts: settings.unknownAttempts ?? (broadcast ? 1 : defaultUnknownAttempts),
      unknownFloorMs: settings.unknownFloorMs ?? (broadcast ? 0 : defaultUnknownFloorMs),
      canDeadLetter: broadcast || mode.deadLetters !== undefined,
    });
    const lagSettings = { registry: settings.metrics, logger, group: this.name, topics: settings.topics };
    this.lag = broadcast ? new DeliveredLag(kafka, lagSettings, () => this.next) : new CommittedLag(kafka, lagSettings, this.fromBeginning);
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: settings.sessionTimeoutMs ?? (broadcast ? 10_000 : 30_000),
      heartbeatInterval: 3000,
      maxBytesPerPartition: settings.maxBytesPerPartition ?? 4 * 1024 * 1024,
      // Room for a full batch of every partition handled at once (KafkaJS's default is 10 MiB per fetch).
      maxBytes: Math.max(10 * 1024 * 1024, (settings.maxBytesPerPartition ?? 4 * 1024 * 1024) * (settings.partitionsConcurrently ?? 1)),
      minBytes: settings.minBytes ?? 1,
      maxWaitTimeInMs: settings.maxWaitTimeMs ?? (broadcast ? 100 : 250),
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assignment = event.payload.memberAssignment;
      logger.info({ group: this.groupId, assignment }, 'partitions assigned');
      this.crash = undefined;
      clearTimeout(this.steadyTimer);
      if (this.crashes) this.steadyTimer = setTimeout(() => this.steady(), steadyAfterMs);
      if (broadcast) this.resumeDelivered(assignment);
      this.handler.onAssignment?.(assignment);
    });
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.reading = true;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.reading = false;
      const crash = this.crashed(error);
      logger.error({ err: error, group: this.groupId, restart, reason: crash.error, failingSince: new Date(crash.since).toISOString() }, restart ? 'consumer crashed; KafkaJS restarts it' : 'consumer crashed; restarting it');
      if (!restart) this.scheduleRestart();
    });
  }

  private get fromBeginning(): boolean {
    return this.settings.mode.kind === 'group' && (this.settings.mode.fromBeginning ?? true);
  }

  async start(): Promise<void> {
    this.running = true;
    this.lag.report();
    await this.run();
  }

  /** Stops fetching, lets the batch in hand finish (a group commits its offsets), leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    this.reading = false;
    clearTimeout(this.restartTimer);
    clearTimeout(this.steadyTimer);
    await this.consumer.disconnect();
    await this.lag.stop();
  }

  health(): ConsumerHealth {
    const failing = this.processor.health();
    const since = [this.crash?.since, failing.failingSince].filter((at) => at !== undefined).sort((a, b) => a - b)[0];
    return { running: this.running, reading: this.reading, ...(since !== undefined ? { failingSince: since, lastError: this.crash?.error ?? failing.lastError } : {}) };
  }

  /** In its group, reading, nothing failing: what readiness asks of it. */
  get ready(): boolean {
    const health = this.health();
    return health.running && health.reading && health.failingSince === undefined;
  }

  /** Throws why it is not ready (stopped, not yet in its group, failing since when and with what). */
  checkReady(): void {
    const health = this.health();
    if (!health.running) throw new Error(`${this.name}: not consuming`);
    if (health.failingSince !== undefined) throw new Error(`${this.name}: processing has failed since ${new Date(health.failingSince).toISOString()}: ${health.lastError}; retrying with backoff`);
    if (!health.reading) throw new Error(`${this.name}: not yet reading (joining its group)`);
  }

  /** Connects, subscribes and runs; stopped meanwhile (a restart inside connect() when stop() came), it disconnects instead of going on: nothing consumes after stop(). */
  private async run(): Promise<void> {
    const steps = [
      () => this.consumer.connect(),
      () => this.consumer.subscribe({ topics: [...this.settings.topics], fromBeginning: this.fromBeginning }),
      () =>
        this.consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.settings.partitionsConcurrently ?? 1,
          eachBatch: (payload) => (this.settings.tracing ? this.processTracedBatch(payload, this.settings.tracing) : this.processBatch(payload)),
        }),
    ];
    for (const step of steps) {
      await step();
      if (!this.running) return this.consumer.disconnect();
    }
  }

  private crashed(error: unknown): { since: number; error: string } {
    clearTimeout(this.steadyTimer);
    this.crashes ??= { since: Date.now(), restartDelayMs: this.retry.initialMs };
    return (this.crash = { since: this.crashes.since, error: crashReason(error) });
  }

  /** Running steadily again: the next crash restarts at the initial delay, and fails readiness from its own time. */
  private steady(): void {
    clearTimeout(this.steadyTimer);
    this.crashes = undefined;
  }

  /**
   * A broadcast reader in its group again after a crash (KafkaJS's restart or ours) would
   * start at the newest offsets, having nothing committed: it seeks back to after what it
   * delivered, so what was published meanwhile still reaches the clients.
   */
  private resumeDelivered(assignment: Record<string, number[]>): void {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const offset = this.next.get(`${topic}:${partition}`);
        if (offset === undefined) continue;
        try {
          this.consumer.seek({ topic, partition, offset: offset.toString() });
        } catch (error) {
          this.settings.logger.error({ err: error, topic, partition, offset: offset.toString() }, 'could not resume after the messages delivered; reading from the newest offset');
        }
      }
    }
  }

  /** After a crash KafkaJS does not restart from: connect and run again, with backoff, until it runs or the runner is stopped. */
  private scheduleRestart(): void {
    if (!this.running) return;
    this.crashes ??= { since: Date.now(), restartDelayMs: this.retry.initialMs };
    const delay = this.crashes.restartDelayMs;
    this.crashes.restartDelayMs = Math.min(delay * 2, this.retry.maxMs);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.run().catch((error: unknown) => {
        this.settings.logger.error({ err: error, group: this.groupId, retryInMs: this.crashes?.restartDelayMs }, 'consumer restart failed; trying again');
        this.crashed(error);
        this.scheduleRestart();
      });
    }, delay);
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
        'messaging.consumer.group.name': this.groupId,
        'messaging.batch.message_count': payload.batch.messages.length,
      },
    });
    return runInSpan(span, () => this.processBatch(payload, span.spanContext()));
  }

  private async processBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload, trace?: SpanContext): Promise<void> {
    if (batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const lastOffset = BigInt(batch.lastOffset());
    const scope: BatchScope = { topic, partition, messages: batch.messages, lastOffset, trace, heartbeat, gone: () => !isRunning() || isStale() };
    const result = await this.processor.process(scope);
    if (result.kind === 'gone') return;
    if (!(await this.putAside(scope, result.letters))) return;
    this.processor.settled(scope);
    resolveOffset(batch.lastOffset());
    if (this.settings.mode.kind === 'broadcast') this.next.set(`${topic}:${partition}`, lastOffset + 1n);
    else if (!(await this.commit(topic, partition, lastOffset))) return;
    if (this.crashes) this.steady();
    // Dead letters (rejected or refused) are counted there, not as handled.
    this.metrics.consumed.inc({ topic }, result.handled);
    await heartbeat();
  }

  /** Commits after a batch; false when the group moved on meanwhile (its next owner reads it again from the committed offset: handling is idempotent). */
  private async commit(topic: string, partition: number, lastOffset: bigint): Promise<boolean> {
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: (lastOffset + 1n).toString() }]);
      return true;
    } catch (error) {
      const { type, cause } = error as { type?: string; cause?: { type?: string } };
      if (!rebalanceErrorTypes.has(type ?? cause?.type ?? '')) throw error;
      this.settings.logger.warn({ err: error, topic, partition }, 'offsets not committed: the partition was reassigned while its batch was handled');
      return false;
    }
  }

  /**
   * What fails for good leaves the batch: a group's to its dead-letter topic (retried
   * with backoff until Kafka takes it; false if the partition went away meanwhile), a
   * broadcast reader's counted and logged.
   */
  private async putAside(scope: BatchScope, letters: DeadLetter[]): Promise<boolean> {
    if (letters.length === 0) return true;
    const { mode } = this.settings;
    const { topic, partition } = scope;
    const reasons = [...new Set(letters.map((l) => l.reason))];
    if (mode.kind === 'broadcast') {
      for (const letter of letters) this.metrics.skipped.inc({ topic, reason: letter.reason });
      this.settings.logger.warn({ topic, partition, offsets: letters.map((l) => l.message.offset), reasons, detail: letters[0]!.detail }, 'skipped broadcast messages that could not be read or delivered');
      return true;
    }
    const deadLetters = mode.deadLetters!;
    const messages = this.deadLetterMessages(topic, partition, letters);
    for (let delay = this.retry.initialMs; ; delay = Math.min(delay * 2, this.retry.maxMs)) {
      if (scope.gone()) return false;
      try {
        // Heartbeating meanwhile: with the producer's retries a send can outlast the session, and an evicted member would send these again.
        await whileHeartbeating(scope, this.settings.logger, deadLetters.producer.send([{ topic: deadLetters.topic, messages }]));
        break;
      } catch (error) {
        await this.processor.noteFailure(scope, error, 'transient', delay);
      }
    }
    for (const letter of letters) this.metrics.deadLettered.inc({ topic, reason: letter.reason });
    this.settings.logger.warn({ topic, partition, count: letters.length, reasons }, 'messages dead-lettered');
    return true;
  }

  private deadLetterMessages(topic: string, partition: number, letters: DeadLetter[]): OutgoingMessage[] {
    const at = String(Date.now());
    return letters.map(({ message, reason, detail, kind }) => ({
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
        [deadLetterHeaders.consumer]: this.groupId,
        [deadLetterHeaders.at]: at,
      },
    }));
  }
}

/** The readiness check of consumers: each in its group, reading, nothing failing (a list read at each check: feeds may be added after it is made). */
export function consumerReadiness(name: string, runners: () => readonly Pick<ConsumerRunner<Positioned>, 'checkReady'>[]): ReadinessCheck {
  return {
    name,
    check: async () => {
      for (const runner of runners()) runner.checkReady();
    },
  };
}
