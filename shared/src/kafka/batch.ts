import type { KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { classifyError, type ErrorClass } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { SpanContext } from '../tracing.ts';
import type { ConsumedEvent } from './decoders.ts';

/** What the runner needs of every decoded message: its offset, to split a batch and to dead-letter one message of it. */
export interface Positioned {
  /** Kafka offsets are int64; kept as bigint so nothing rounds. */
  offset: bigint;
}

/** One message decoded, or why it cannot be. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

/**
 * Turns one Kafka message into what the handler takes. Data that is not what the topic
 * carries is an answer (`ok: false` with a reason), not an exception; a throw is a bug.
 */
export type MessageDecoder<T extends Positioned> = (message: KafkaMessage, topic: string, partition: number) => Decoded<T>;

/** The decodable part of one fetched batch of one topic-partition, in offset order. */
export interface PartitionBatch<T extends Positioned = ConsumedEvent> {
  topic: string;
  partition: number;
  events: T[];
  /** The last offset of the fetched batch (decodable or not); committed after success. */
  lastOffset: bigint;
  /** The batch's span, when tracing is on and some record of it was traced: what the handler publishes can carry it on. */
  trace?: SpanContext;
}

/** A message of the batch the handler will not process although it decodes, and why. */
export interface Rejection {
  offset: bigint;
  reason: string;
  detail: string;
}

/**
 * What a handler says of a batch (or of the part of one it was given):
 * - `ok`: its effect is durable; the runner commits it.
 * - `dead-letter`: the listed messages are refused for good (each with its reason), the
 *   rest is done; the runner dead-letters them (a broadcast reader counts and logs them)
 *   and commits.
 * - `retry`: nothing of it is done for good and trying again later can help (a dependency
 *   away): the runner retries the same batch with backoff, as long as it takes.
 */
export type HandlerOutcome = { kind: 'ok' } | { kind: 'dead-letter'; messages: readonly Rejection[] } | { kind: 'retry'; cause: Error };

/** The outcome of a batch fully handled. */
export const batchHandled: HandlerOutcome = { kind: 'ok' };

export interface ConsumerHandler<T extends Positioned = ConsumedEvent> {
  /**
   * Processes one batch and says how it went (`HandlerOutcome`). It may be called again
   * with the same batch or a part of it (offset order kept), so it must be safe to. A
   * throw is an error the handler did not foresee (a bug, a library's error): the runner
   * classifies it (`classifyError`): transient retries the batch with backoff; permanent
   * (the data refused) splits the batch in halves down to the message that fails alone,
   * which is dead-lettered with the error as its reason; unknown retries like transient
   * until it failed `unknownAttempts` times and for `unknownFloorMs`, then splits like
   * permanent, unless the split finds an outage (its parts fail alike and none
   * succeeds): then the whole batch is retried again. A rejection of an offset not in
   * the batch is a bug: the runner crashes on it.
   */
  handleBatch(batch: PartitionBatch<T>): Promise<HandlerOutcome>;
  /**
   * Called synchronously when this member joins a new group generation, before any batch
   * of it is fetched: drop per-partition state another member may have made stale.
   * (KafkaJS does not await listeners, so this must not be async; load lazily instead.)
   */
  onAssignment?(assignment: Record<string, number[]>): void;
}

/** A message on its way out of the batch: to the dead-letter topic, or (a broadcast reader) skipped. */
export interface DeadLetter {
  message: KafkaMessage;
  reason: string;
  detail: string;
  /** transient, permanent, unknown for a handler's failure; decode or rejected otherwise. */
  kind: 'decode' | 'rejected' | ErrorClass;
}

/** The part of a fetched batch being handled, and how to keep the membership meanwhile. */
export interface BatchScope {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  lastOffset: bigint;
  trace?: SpanContext;
  heartbeat: () => Promise<void>;
  /** Revoked, stale or stopping: the batch is left to whoever reads the partition next. */
  gone: () => boolean;
}

/** A batch processed: what leaves it (dead letters, in offset order) and how many events were handled; or the partition went away. */
export type BatchResult = { kind: 'done'; letters: DeadLetter[]; handled: number } | { kind: 'gone' };

/** The counters of every consumer of a service; one set per registry, whichever runner comes first declares them. */
export class ConsumerMetrics {
  readonly consumed: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;
  readonly skipped: Counter<'topic' | 'reason'>;
  readonly batchFailures: Counter<'topic'>;
  readonly failuresByClass: Counter<'topic' | 'class'>;

  private static readonly ofRegistry = new WeakMap<Registry, ConsumerMetrics>();

  static of(registry: Registry): ConsumerMetrics {
    let metrics = ConsumerMetrics.ofRegistry.get(registry);
    if (!metrics) ConsumerMetrics.ofRegistry.set(registry, (metrics = new ConsumerMetrics(registry)));
    return metrics;
  }

  private constructor(registry: Registry) {
    this.failuresByClass = new Counter({ name: 'tower_consumer_handler_failures_total', help: 'Handler attempts that failed, by the class of the error (transient, permanent, unknown)', labelNames: ['topic', 'class'], registers: [registry] });
    this.consumed = new Counter({ name: 'tower_consumer_events_total', help: 'Messages decoded and handled, not those the handler rejected or failed on alone (counted as dead-lettered or skipped)', labelNames: ['topic'], registers: [registry] });
    this.deadLettered = new Counter({ name: 'tower_consumer_dead_lettered_total', help: 'Messages sent to the dead-letter topic, by reason', labelNames: ['topic', 'reason'], registers: [registry] });
    this.skipped = new Counter({ name: 'tower_consumer_skipped_total', help: 'Messages a broadcast reader could not decode or deliver: logged and skipped (it has no dead-letter topic), by reason', labelNames: ['topic', 'reason'], registers: [registry] });
    this.batchFailures = new Counter({ name: 'tower_consumer_batch_failures_total', help: 'Batch attempts that failed and were retried', labelNames: ['topic'], registers: [registry] });
  }
}

export interface BatchProcessorSettings<T extends Positioned> {
  decoder: MessageDecoder<T>;
  handler: ConsumerHandler<T>;
  logger: Logger;
  metrics: ConsumerMetrics;
  retry: { initialMs: number; maxMs: number };
  unknownAttempts: number;
  unknownFloorMs: number;
  /**
   * Whether what fails for good can leave the batch (a dead-letter topic, or a broadcast
   * reader's skip). Without: an error that would dead-letter is retried with backoff like
   * a transient one, and an undecodable message or a rejection is a bug.
   */
  canDeadLetter: boolean;
}

/** A split that found no poison: every part it tried failed as the whole did and none succeeded. */
const outage = Symbol('outage');

/** One split of a batch, down to its smallest parts: the error that started it and whether any part has succeeded since. */
interface SplitRun {
  kind: ErrorClass;
  detail: string;
  succeeded: boolean;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How often the membership is kept while something of a batch is awaited (KafkaJS sends at most one heartbeat per its heartbeat interval, 3 s). */
const heartbeatEveryMs = 1000;
/** How often a backoff looks whether its partition went away (revoked, stale, stopping): stop() must not wait a backoff out. */
const goneCheckMs = 100;

/**
 * Awaits `work` heartbeating meanwhile. KafkaJS heartbeats only when asked to, so a
 * handler (an insert waiting on a hung ClickHouse, a repair) or a dead-letter send slower
 * than the session would otherwise get the member evicted, its commit refused and the
 * group rebalanced, again and again. A heartbeat that fails (a rebalance) is logged and
 * `onHeartbeatFailure` told; the loop then sees its scope gone.
 */
export async function whileHeartbeating<R>(scope: Pick<BatchScope, 'heartbeat'>, logger: Logger, work: Promise<R>, onHeartbeatFailure?: () => void): Promise<R> {
  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    scope
      .heartbeat()
      .catch((error: unknown) => {
        logger.info({ err: error }, 'heartbeat failed');
        onHeartbeatFailure?.();
      })
      .finally(() => (beating = false));
  }, heartbeatEveryMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * What the runner does with one fetched batch, Kafka aside: decodes each message, hands
 * the decodable ones to the handler and acts on its outcome (retries, splits, gathers
 * the dead letters) until the batch is done or the partition goes away. `health()` says
 * which partitions are failing and since when.
 */
export class BatchProcessor<T extends Positioned> {
  /** Partitions whose batch is failing: since when, and the last error. */
  private readonly failing = new Map<string, { since: number; error: string }>();

  constructor(private readonly settings: BatchProcessorSettings<T>) {}

  health(): { failingSince?: number; lastError?: string } {
    const oldest = [...this.failing.values()].sort((a, b) => a.since - b.since)[0];
    return oldest ? { failingSince: oldest.since, lastError: oldest.error } : {};
  }

  async process(scope: BatchScope): Promise<BatchResult> {
    const events: T[] = [];
    const undecodable: DeadLetter[] = [];
    for (const message of scope.messages) {
      const decoded = this.settings.decoder(message, scope.topic, scope.partition);
      if (decoded.ok) events.push(decoded.value);
      else undecodable.push({ message, reason: decoded.reason, detail: decoded.detail, kind: 'decode' });
    }
    if (undecodable.length > 0 && !this.settings.canDeadLetter) throw new Error(`${scope.topic}/${scope.partition} offset ${undecodable[0]!.message.offset} is not decodable (${undecodable[0]!.detail}) and this consumer has nowhere to dead-letter it`);
    const handled = await this.handle(scope, events, scope.lastOffset);
    if (!handled || handled === outage) return { kind: 'gone' }; // revoked or stopping: the next owner re-reads from the committed offset (an outage the whole batch retries itself: never here)
    const letters = [...undecodable, ...handled].sort((a, b) => Number(BigInt(a.message.offset) - BigInt(b.message.offset)));
    return { kind: 'done', letters, handled: events.length - handled.length };
  }

  /** The batch is through: its partition no longer counts as failing. */
  settled(scope: Pick<BatchScope, 'topic' | 'partition'>): void {
    this.failing.delete(`${scope.topic}:${scope.partition}`);
  }

  /** One failed attempt: counted, remembered for health, logged, then the backoff waited out heartbeating. */
  async noteFailure(scope: BatchScope, error: unknown, kind: ErrorClass, retryInMs: number): Promise<void> {
    const { topic, partition } = scope;
    this.settings.metrics.batchFailures.inc({ topic });
    this.settings.metrics.failuresByClass.inc({ topic, class: kind });
    this.failing.set(`${topic}:${partition}`, { since: this.failing.get(`${topic}:${partition}`)?.since ?? Date.now(), error: messageOf(error) });
    this.settings.logger.warn({ err: error, topic, partition, kind, retryInMs }, 'batch failed; retrying');
    await this.waitHeartbeating(retryInMs, scope);
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
  private async handle(scope: BatchScope, events: T[], lastOffset: bigint, run?: SplitRun, secondHalf = false): Promise<DeadLetter[] | typeof outage | undefined> {
    if (events.length === 0) return [];
    let delay = this.settings.retry.initialMs;
    const backoff = () => (delay = Math.min(delay * 2, this.settings.retry.maxMs));
    let failingSince: number | undefined;
    for (let unknownFailures = 0; ; ) {
      if (scope.gone()) return undefined;
      // Splitting a batch takes many handler calls: keep the membership meanwhile (KafkaJS sends at most one per heartbeat interval).
      await scope.heartbeat().catch((error: unknown) => this.settings.logger.info({ err: error }, 'heartbeat between attempts failed'));
      let outcome: HandlerOutcome;
      try {
        outcome = await whileHeartbeating(scope, this.settings.logger, this.settings.handler.handleBatch({ topic: scope.topic, partition: scope.partition, events, lastOffset, trace: scope.trace }));
      } catch (error) {
        const kind = classifyError(error);
        failingSince ??= Date.now();
        if (kind === 'unknown') unknownFailures += 1;
        if (kind === 'unknown' && run?.kind === 'unknown' && secondHalf && !run.succeeded && messageOf(error) === run.detail) return outage;
        const givingUp = this.settings.canDeadLetter && (kind === 'permanent' || (kind === 'unknown' && (run?.kind === 'unknown' || (unknownFailures >= this.settings.unknownAttempts && Date.now() - failingSince >= this.settings.unknownFloorMs))));
        if (givingUp) {
          const own = run?.kind === kind ? undefined : { kind, detail: messageOf(error), succeeded: false };
          const letters = await this.split(scope, events, error, kind, own ?? run!);
          if (letters !== outage || !own) return letters;
          this.settings.logger.warn({ topic: scope.topic, partition: scope.partition, events: events.length, err: error }, 'every part of the batch fails as the whole does: an outage, not poison; retrying the batch');
          unknownFailures = 0;
        }
        await this.noteFailure(scope, error, kind, delay);
        backoff();
        continue;
      }
      if (outcome.kind === 'retry') {
        await this.noteFailure(scope, outcome.cause, 'transient', delay);
        backoff();
        continue;
      }
      if (run) run.succeeded = true;
      this.settled(scope);
      const rejections = outcome.kind === 'dead-letter' ? outcome.messages : [];
      if (rejections.length > 0 && !this.settings.canDeadLetter) throw new Error(`the handler rejected offset ${rejections[0]!.offset} of a consumer that has nowhere to dead-letter it`);
      // Outside the handler's try: a rejection of an offset not in the batch is a bug to crash on, not an error to dead-letter data for.
      return rejections.map((rejection) => {
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
  private async split(scope: BatchScope, events: T[], error: unknown, kind: ErrorClass, run: SplitRun): Promise<DeadLetter[] | typeof outage | undefined> {
    this.settings.metrics.failuresByClass.inc({ topic: scope.topic, class: kind });
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

  /** The backoff: heartbeating, and over as soon as the partition goes away or a heartbeat fails (a rebalance: the loop then sees the scope gone). */
  private async waitHeartbeating(ms: number, scope: BatchScope): Promise<void> {
    const until = Date.now() + ms;
    let heartbeatFailed = false;
    const wait = async () => {
      while (Date.now() < until && !heartbeatFailed && !scope.gone()) await sleep(Math.min(goneCheckMs, until - Date.now()));
    };
    await whileHeartbeating(scope, this.settings.logger, wait(), () => (heartbeatFailed = true));
  }
}
