import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck } from './http.ts';
import type { Logger } from './logging.ts';

/**
 * A piece of a service that starts and stops: a client of Kafka, ClickHouse or Redis, a
 * consumer, a periodic task, the HTTP server. A service's `build…` returns its parts in
 * start order; `main.ts` puts its clients first, and the tests run the same list.
 */
export interface Part {
  /** What it is, for the log: `http (stop intake, finish requests in flight)`, `redis`. */
  name: string;
  start(): Promise<void>;
  /** Stops it; what it holds is handed on (offsets committed, a producer flushed). */
  stop(): Promise<void>;
  /** Resolves while it works, throws why not (/readyz reads it: `readinessOf`). */
  health?(): Promise<void>;
  /** Give up stopping it after this long and go on with the next (default 10 s). */
  stopTimeoutMs?: number;
}

/** A dependency refused the connection at start (a refused login, nothing listening): the message names it and the user. */
export class CannotConnect extends Error {}

/** A part could not start; its message says which, and why. */
export class PartStartFailed extends Error {
  constructor(
    readonly part: string,
    cause: unknown,
  ) {
    super(cause instanceof CannotConnect ? cause.message : `cannot start ${part}: ${(cause as Error).message}`, { cause });
  }
}

/** Something that starts and stops (sync or not) as a part. */
export function partOf(name: string, thing: { start(): unknown; stop(): unknown }, options: Pick<Part, 'health' | 'stopTimeoutMs'> = {}): Part {
  return {
    name,
    start: async () => void (await thing.start()),
    stop: async () => void (await thing.stop()),
    ...options,
  };
}

/** A watch (a registry file reloaded when it changes) as a part: `watch` starts it and returns how to stop it. */
export function watchPart(name: string, watch: () => () => void): Part {
  let unwatch = () => {};
  return {
    name,
    start: async () => void (unwatch = watch()),
    stop: async () => unwatch(),
  };
}

/** A part that only stops: what was started while the service was wired (tracing) and must be shut down last. */
export function stopOnly(name: string, stop: () => Promise<unknown>): Part {
  return { name, start: async () => {}, stop: async () => void (await stop()) };
}

/**
 * A client of a dependency as a part: connected at start, where a failure names the
 * dependency and the user (`cannot connect to Redis as tower-slots: WRONGPASS …`);
 * closed at stop; `health` pings it.
 */
export function clientPart(name: string, client: { dependency: string; user: string; connect(): Promise<unknown>; close(): Promise<unknown>; ping?(): Promise<void> }): Part {
  return {
    name,
    start: async () => {
      try {
        await client.connect();
      } catch (error) {
        throw new CannotConnect(`cannot connect to ${client.dependency}${client.user ? ` as ${client.user}` : ''}: ${(error as Error).message}`);
      }
    },
    stop: async () => void (await client.close()),
    ...(client.ping ? { health: client.ping } : {}),
  };
}

/** Where an HTTP server listens. */
export interface ListenOn {
  port: number;
  host: string;
}

/** An HTTP server as a part: it listens at start (without `listen`, for tests that inject, it is only made ready); it stops taking requests and finishes those in flight at stop. */
export function httpPart(name: string, app: FastifyInstance, listen: ListenOn | undefined, stopTimeoutMs = 15_000): Part {
  return { name, start: async () => void (listen ? await app.listen(listen) : await app.ready()), stop: () => app.close(), stopTimeoutMs };
}

/** The readiness checks of the parts that have a health, under their names. */
export function readinessOf(parts: readonly Part[]): ReadinessCheck[] {
  return parts.flatMap((part) => (part.health ? [{ name: part.name, check: part.health }] : []));
}

/** The start was cut short by a stop (a signal during the start): the service never became ready. */
export class StartInterrupted extends Error {
  constructor(reason: string) {
    super(`stopped while starting (${reason})`);
  }
}

/**
 * The longest a whole stop takes: the wait for a part starting and every part's stop
 * together. Past it the parts not stopped yet are named in the log and left to the
 * process's exit. An orchestrator's grace period before it kills the process must be
 * longer (docker-compose.yml's stop_grace_period is derived from it).
 */
export const stopDeadlineMs = 50_000;

/** How long a stop during the start waits for the part starting (a connect that retries) before it stops the others. */
const startWaitMs = 10_000;

/** Settles as `promise` does, or rejects with "timed out after … ms". */
function withinMs<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

/**
 * Runs a service's parts: starts them in order, and stops those started in reverse, once,
 * each with its timeout, all within `stopDeadlineMs`, logged, going on past a failure. The
 * list's order is the shutdown order read backwards, which each service chooses
 * deliberately: stop intake, drain, commit offsets, flush producers, close clients.
 * SIGTERM, SIGINT, an uncaught exception and an unhandled rejection all route to the same
 * `stop()`; repeated ones while it runs are logged and ignored. A stop during the start
 * waits up to 10 s for the part starting, starts no other, and stops those started; a part
 * that finishes starting later is stopped as soon as it has, and a part whose start
 * failed is stopped too (it may have half-started).
 */
export class Lifecycle {
  private readonly started: Part[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Set once the stop has taken the parts started: a part whose start ends later is stopped by the start itself. */
  private partsTaken = false;
  /** A stop step failed, or did not end in time, or the stop followed an error: the process exits 1. */
  private failed = false;
  /** Steps stopped so far: each step's log line carries its place. */
  private stepsStopped = 0;
  private exited = false;
  private readonly stopDeadlineMs: number;
  private readonly startWaitMs: number;

  /** `options` for tests: shorter waits than a service's. */
  constructor(
    private readonly logger: Logger,
    options: { stopDeadlineMs?: number; startWaitMs?: number } = {},
  ) {
    this.stopDeadlineMs = options.stopDeadlineMs ?? stopDeadlineMs;
    this.startWaitMs = options.startWaitMs ?? startWaitMs;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Starts the parts in order; one that fails throws PartStartFailed (the ones started stay
   * started, and so does the one that failed: `stop()` stops them). A stop during the start
   * makes it throw StartInterrupted.
   */
  start(parts: readonly Part[]): Promise<void> {
    const previous = this.starting ?? Promise.resolve();
    this.starting = previous.then(() => this.startParts(parts));
    return this.starting;
  }

  /** Parts a test starts one by one, as it needs them: `stop()` stops them all, in reverse of this list (stopping one never started is harmless). */
  adopt(parts: readonly Part[]): this {
    this.started.push(...parts);
    return this;
  }

  /**
   * For main.ts: starts the parts, or writes why not (`<service>: cannot connect to …`),
   * stops what started and exits 1. Stopped during the start (a signal), it exits once
   * stopped, as the signal handler does, and never returns to log "ready".
   */
  async startOrExit(service: string, parts: readonly Part[], exit: (code: number) => void = (code) => process.exit(code)): Promise<void> {
    try {
      await this.start(parts);
    } catch (error) {
      if (error instanceof StartInterrupted) {
        await this.stopping;
        this.exitOnce(exit);
        return;
      }
      process.stderr.write(`${service}: ${(error as Error).message}\n`);
      await this.stop('a part did not start', error);
      this.exitOnce(exit, 1);
    }
  }

  stop(reason: string, error?: unknown): Promise<void> {
    this.stopping ??= this.stopParts(reason, error);
    return this.stopping;
  }

  private async startParts(parts: readonly Part[]): Promise<void> {
    for (const part of parts) {
      if (this.stopping) throw new StartInterrupted('a stop began');
      const began = Date.now();
      try {
        await part.start();
      } catch (error) {
        // It may have half-started (connected, then failed to subscribe): its stop is called as the others'.
        await this.keepToStop(part);
        throw new PartStartFailed(part.name, error);
      }
      await this.keepToStop(part);
      this.logger.debug({ part: part.name, ms: Date.now() - began }, 'started');
    }
    if (this.stopping) throw new StartInterrupted('a stop began');
  }

  /** A part whose start has ended is stopped with the others, or now if the stop has already taken them. */
  private async keepToStop(part: Part): Promise<void> {
    if (!this.partsTaken) {
      this.started.push(part);
      return;
    }
    this.logger.warn({ step: part.name }, 'a part ended its start after the stop had begun: stopping it');
    await this.stopStep(part, part.stopTimeoutMs ?? 10_000);
  }

  private async stopParts(reason: string, error?: unknown): Promise<void> {
    if (error) {
      this.failed = true;
      this.logger.error({ err: error, reason }, 'stopping after an error');
    } else this.logger.info({ reason }, 'stopping');
    const deadline = Date.now() + this.stopDeadlineMs;
    // A part starting (a connect that retries) is waited for, not for ever.
    if (this.starting) await withinMs(this.starting, Math.min(this.startWaitMs, this.stopDeadlineMs)).catch(() => undefined);
    this.partsTaken = true;
    const parts = this.started.splice(0).reverse();
    for (const [index, part] of parts.entries()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.failed = true;
        this.logger.error({ steps: parts.slice(index).map((p) => p.name), deadlineMs: this.stopDeadlineMs }, 'shutdown deadline passed: these steps are left to the exit');
        return;
      }
      await this.stopStep(part, Math.min(part.stopTimeoutMs ?? 10_000, left));
    }
  }

  private async stopStep(part: Part, timeoutMs: number): Promise<void> {
    const began = Date.now();
    // Each step's place in the stop: pino writes asynchronously, and at the exit its last
    // lines can reach stdout before a write still in flight, so the lines' order is not proof.
    const order = this.stepsStopped++;
    try {
      await withinMs(part.stop(), timeoutMs);
      this.logger.info({ step: part.name, order, ms: Date.now() - began }, 'shutdown step done');
    } catch (stepError) {
      this.failed = true;
      this.logger.error({ err: stepError, step: part.name, order }, 'shutdown step failed; continuing');
    }
  }

  /** Exits once, whoever asks first (a signal handler or `startOrExit`): 1 after an error or a failed step. */
  private exitOnce(exit: (code: number) => void, code = this.failed ? 1 : 0): void {
    if (this.exited) return;
    this.exited = true;
    exit(code);
  }

  /**
   * Wires process signals and crashes to `stop()`, then exits (1 after an error or a failed
   * step). A signal or a crash while stopping is logged and ignored (npm forwards one Ctrl-C
   * twice; a socket closing may throw mid-drain): the stop goes on to its end, bounded by
   * `stopDeadlineMs`; a crash then makes the exit code 1.
   */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const stopAndExit = (reason: string, error?: unknown) => {
      if (this.stopping) {
        if (error) {
          this.failed = true;
          this.logger.error({ err: error, reason }, 'error while stopping: logged, the stop goes on');
        } else this.logger.warn({ reason }, 'already stopping: ignored');
        return;
      }
      void this.stop(reason, error).then(() => this.exitOnce(exit));
    };
    process.on('SIGTERM', () => stopAndExit('SIGTERM'));
    process.on('SIGINT', () => stopAndExit('SIGINT'));
    process.on('uncaughtException', (error) => stopAndExit('uncaughtException', error));
    process.on('unhandledRejection', (error) => stopAndExit('unhandledRejection', error));
  }
}
