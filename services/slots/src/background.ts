import type { Logger } from '@tower/shared';

/**
 * Work that runs every `intervalMs` (the sweeper, the outbox relay): one round at a
 * time, a failing round is logged and tried again at the next tick, and `stop()` waits
 * for the round in progress.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** When the last round ended well; for readiness and metrics. */
  lastSuccessAt: number | undefined;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Runs a round now (tests, and after start-up). */
  async runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round()
      .then(() => {
        this.lastSuccessAt = this.now();
      })
      .catch((error: unknown) => this.logger.warn({ err: error, task: this.name }, `${this.name} failed; trying again`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce().then(() => this.schedule()), this.intervalMs);
    this.timer.unref();
  }
}
