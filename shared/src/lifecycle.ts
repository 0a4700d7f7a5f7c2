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

/**
 * Runs a service's parts: starts them in order, and stops those started in reverse, once,
 * each with its timeout, logged, going on past a failure. The list's order is the
 * shutdown order read backwards, which each service chooses deliberately: stop intake,
 * drain, commit offsets, flush producers, close clients. SIGTERM, SIGINT, an uncaught
 * exception and an unhandled rejection all route to the same `stop()`; a stop during the
 * start waits up to 10 s for the part starting, starts no other, and stops those started.
 */
export class Lifecycle {
  private readonly started: Part[] = [];
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Starts the parts in order; one that fails throws PartStartFailed (the ones started stay started: `stop()` stops them). */
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

  /** For main.ts: starts the parts, or writes why not (`<service>: cannot connect to …`), stops what started and exits 1. */
  async startOrExit(service: string, parts: readonly Part[], exit: (code: number) => void = (code) => process.exit(code)): Promise<void> {
    try {
      await this.start(parts);
    } catch (error) {
      process.stderr.write(`${service}: ${(error as Error).message}\n`);
      await this.stop('a part did not start', error);
      exit(1);
    }
  }

  stop(reason: string, error?: unknown): Promise<void> {
    this.stopping ??= this.stopParts(reason, error);
    return this.stopping;
  }

  private async startParts(parts: readonly Part[]): Promise<void> {
    for (const part of parts) {
      if (this.stopping) return;
      const began = Date.now();
      try {
        await part.start();
      } catch (error) {
        throw new PartStartFailed(part.name, error);
      }
      this.started.push(part);
      this.logger.debug({ part: part.name, ms: Date.now() - began }, 'started');
    }
  }

  private async stopParts(reason: string, error?: unknown): Promise<void> {
    if (error) this.logger.error({ err: error, reason }, 'stopping after an error');
    else this.logger.info({ reason }, 'stopping');
    // A part starting (a connect that retries) is waited for, not for ever.
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.starting?.catch(() => undefined), new Promise((resolve) => (waited = setTimeout(resolve, 10_000)))]);
    clearTimeout(waited);
    for (const part of this.started.splice(0).reverse()) {
      const began = Date.now();
      const timeoutMs = part.stopTimeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          part.stop(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
        ]);
        this.logger.info({ step: part.name, ms: Date.now() - began }, 'shutdown step done');
      } catch (stepError) {
        this.logger.error({ err: stepError, step: part.name }, 'shutdown step failed; continuing');
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Wires process signals and crashes to `stop()`, then exits (1 after an error). */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const stopAndExit = (reason: string, error?: unknown) => {
      void this.stop(reason, error).then(() => exit(error ? 1 : 0));
    };
    process.once('SIGTERM', () => stopAndExit('SIGTERM'));
    process.once('SIGINT', () => stopAndExit('SIGINT'));
    process.once('uncaughtException', (error) => stopAndExit('uncaughtException', error));
    process.once('unhandledRejection', (error) => stopAndExit('unhandledRejection', error));
  }
}
