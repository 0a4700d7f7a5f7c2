import type { Logger } from './logging.ts';

export interface ShutdownStep {
  /** What is being stopped, for the log: `http`, `ingest producer`, `clickhouse`. */
  name: string;
  run(): Promise<void>;
  /** Give up on this step after this long and go on with the next (default 10 s). */
  timeoutMs?: number;
}

/**
 * Ordered graceful shutdown. Steps run one after another in the order they were
 * added, which main.ts chooses deliberately: stop intake, drain, flush producers,
 * commit offsets, close clients. SIGTERM, SIGINT, an uncaught exception and an
 * unhandled rejection all route to the same `stop()`, which runs once.
 */
export class Lifecycle {
  private readonly steps: ShutdownStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  onShutdown(step: ShutdownStep): this {
    this.steps.push(step);
    return this;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  stop(reason: string, error?: unknown): Promise<void> {
    this.stopping ??= this.runSteps(reason, error);
    return this.stopping;
  }

  private async runSteps(reason: string, error?: unknown): Promise<void> {
    if (error) this.logger.error({ err: error, reason }, 'stopping after an error');
    else this.logger.info({ reason }, 'stopping');
    for (const step of this.steps) {
      const started = Date.now();
      const timeoutMs = step.timeoutMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          step.run(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
        ]);
        this.logger.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
      } catch (stepError) {
        this.logger.error({ err: stepError, step: step.name }, 'shutdown step failed; continuing');
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

/**
 * For a service's main.ts: connects to a dependency at start, or writes why not (a
 * refused login, nothing listening) naming the dependency and the user, and exits 1.
 */
export async function connectOrExit(service: string, dependency: string, user: string, connect: () => Promise<unknown>): Promise<void> {
  try {
    await connect();
  } catch (error) {
    process.stderr.write(`${service}: cannot connect to ${dependency}${user ? ` as ${user}` : ''}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
