import { Worker } from 'node:worker_threads';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger, TopicMessages, TowerProducer } from '@tower/shared';
import { packBatch, type FromKafkaThread, type KafkaThreadSettings, type ToKafkaThread } from './protocol.ts';

interface Waiting {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Why a thread was replaced: an uncaught error in it, another end (process.exit, terminated), or a producer that did not connect. */
const threadStopReasons = ['error', 'exit', 'connect'] as const;
type ThreadStopReason = (typeof threadStopReasons)[number];

interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
  /** Set once it answered `closed` or stopped: it takes nothing more. */
  done: boolean;
}

/**
 * The services run TypeScript through tsx's loader, which a worker thread does not
 * inherit (Node 20): the thread registers it, then loads its entry.
 */
function threadSource(entry: URL): string {
  const loader = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
}

/**
 * The thread's metrics on the service's registry (docs/metrics.md): each thread that
 * stopped unasked or never connected (the next send starts its replacement), and the
 * batches handed to the thread that it has not answered yet, read at each scrape.
 */
function threadMetrics(registry: Registry, queued: () => number): Counter<'reason'> {
  new Gauge({
    name: 'tower_ingest_producer_thread_queued_batches',
    help: 'batches handed to the Kafka thread and not yet answered (queued in it or in a produce request)',
    collect() {
      this.set(queued());
    },
    registers: [registry],
  });
  const restarts = new Counter({ name: 'tower_ingest_producer_thread_restarts_total', help: 'Kafka threads replaced, by why the last one ended', labelNames: ['reason'], registers: [registry] });
  // Served at 0 from the start, so the first restart is an increase Prometheus sees, not a new series.
  for (const reason of threadStopReasons) restarts.inc({ reason }, 0);
  return restarts;
}

export interface KafkaThreadOptions {
  /** The service's registry: the thread's metrics are declared on it. */
  metrics?: Registry;
  /** The thread's entry module (tests wrap ./thread.ts to end it). */
  entry?: URL;
}

/**
 * A TowerProducer whose KafkaJS producer runs in a worker thread (./thread.ts), so
 * Kafka's record encoding and the client's bookkeeping use the second core instead of
 * the HTTP thread's event loop. A send resolves only when the thread reports Kafka's
 * acknowledgement of every record of it; an aborted send is rejected at once and
 * withdrawn in the thread if still queued (never written, as in one thread).
 *
 * A thread that stops (a crash, an out-of-memory end) fails every send it held with an
 * error (the caller answers 503; what it may have written was not acknowledged, so the
 * re-send is a duplicate the consumers drop by eventId), and the next send starts a new
 * one, with a new producer id.
 */
export class KafkaThreadProducer implements TowerProducer {
  private thread: Promise<Thread> | undefined;
  private nextId = 0;
  private closing: Promise<void> | undefined;
  /** The thread started last (the others are done and hold no sends). */
  private latest: Thread | undefined;
  private readonly entry: URL;
  private readonly restarts: Counter<'reason'> | undefined;

  constructor(
    private readonly settings: KafkaThreadSettings,
    private readonly logger: Logger,
    options: KafkaThreadOptions = {},
  ) {
    this.entry = options.entry ?? new URL('./thread.ts', import.meta.url);
    this.restarts = options.metrics && threadMetrics(options.metrics, () => this.latest?.waiting.size ?? 0);
  }

  async connect(): Promise<void> {
    await this.current();
  }

  async send(batch: TopicMessages[], signal?: AbortSignal): Promise<void> {
    if (this.closing) throw new Error('the Kafka producer is closing: nothing more is sent');
    signal?.throwIfAborted();
    const thread = await this.current();
    signal?.throwIfAborted();
    if (thread.done) throw new Error('the Kafka thread stopped before the send');
    const id = this.nextId++;
    const message: ToKafkaThread = { kind: 'send', id, batch: packBatch(batch) };
    return new Promise<void>((resolve, reject) => {
      const giveUp = () => {
        if (!thread.waiting.delete(id)) return;
        if (!thread.done) thread.worker.postMessage({ kind: 'abort', id } satisfies ToKafkaThread);
        reject(signal!.reason as Error);
      };
      const settled = (settle: () => void) => () => {
        signal?.removeEventListener('abort', giveUp);
        settle();
      };
      thread.waiting.set(id, { resolve: settled(resolve), reject: (error) => settled(() => reject(error))() });
      signal?.addEventListener('abort', giveUp, { once: true });
      thread.worker.postMessage(message, [message.batch.values]);
    });
  }

  /** Flushes (every batch the thread took is sent and answered), then ends the thread. */
  disconnect(): Promise<void> {
    return (this.closing ??= (async () => {
      const thread = await this.thread?.catch(() => undefined);
      if (!thread || thread.done) return;
      await new Promise<void>((resolve) => {
        thread.worker.once('exit', () => resolve());
        thread.worker.postMessage({ kind: 'close' } satisfies ToKafkaThread);
      });
    })());
  }

  /** The running thread, or a new one when there is none or the last one stopped. */
  private current(): Promise<Thread> {
    if (!this.thread) {
      const starting = this.start();
      this.thread = starting;
      // A thread that did not start is not kept: the next send tries again.
      starting.catch(() => {
        if (this.thread === starting) this.thread = undefined;
      });
      return starting;
    }
    return this.thread.then((thread) => {
      if (!thread.done) return thread;
      this.thread = undefined;
      return this.current();
    });
  }

  private start(): Promise<Thread> {
    const worker = new Worker(threadSource(this.entry), { eval: true, workerData: this.settings });
    const thread: Thread = { worker, waiting: new Map(), done: false };
    this.latest = thread;
    let failed = false;
    const replaced = (reason: ThreadStopReason) => this.restarts?.inc({ reason });
    return new Promise<Thread>((resolve, reject) => {
      worker.on('message', (message: FromKafkaThread) => {
        if (message.kind === 'ready') resolve(thread);
        else if (message.kind === 'unusable') {
          thread.done = true;
          replaced('connect');
          reject(new Error(message.message));
          void worker.terminate();
        } else if (message.kind === 'acked' || message.kind === 'failed') {
          const waiting = thread.waiting.get(message.id);
          thread.waiting.delete(message.id);
          if (message.kind === 'acked') waiting?.resolve();
          else waiting?.reject(new Error(message.message));
        } else thread.done = true;
      });
      worker.on('error', (error) => {
        failed = true;
        this.logger.error({ err: error }, 'the Kafka thread failed');
      });
      worker.on('exit', (code) => {
        const held = [...thread.waiting.values()];
        thread.waiting.clear();
        if (!thread.done && !this.closing) {
          replaced(failed ? 'error' : 'exit');
          this.logger.error({ code, sends: held.length }, 'the Kafka thread stopped; its sends fail (503) and the next send starts a new one');
        }
        thread.done = true;
        for (const waiting of held) waiting.reject(new Error(`the Kafka thread stopped (exit code ${code}) before Kafka acknowledged the send`));
        reject(new Error(`the Kafka thread stopped (exit code ${code}) before its producer connected`));
      });
    });
  }
}
