/**
 * Writes that arrive while earlier ones are in flight are merged into one: under load
 * one request carries many callers' items (one Kafka produce request, one ClickHouse
 * insert), when idle a write goes out at once (after the current event-loop turn, so
 * the items of one turn share it). Every caller's promise settles with the write that
 * carried its item, so "resolved" still means "this item is durable". A write carries
 * at most `maxWeight` (by `weightOf`), except that a single item always goes alone.
 *
 * A caller may give up (its `signal` aborts): its promise is rejected with the signal's
 * reason at once, and an item still queued is withdrawn, never written. An item already
 * taken into a write stays in it (the write may still succeed without that caller).
 */
export class Coalescer<T> {
  private queue: { item: T; weight: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: {
      maxInFlight: number;
      maxWeight?: number;
      weightOf?: (item: T) => number;
      /** When a merged write fails with such an error (data refused), each item is written again alone: one caller's bad item must not fail the others. */
      splitOn?: (error: unknown) => boolean;
    },
  ) {}

  submit(item: T, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!signal) {
        this.queue.push({ item, weight: this.options.weightOf?.(item) ?? 1, resolve, reject });
        this.schedule();
        return;
      }
      signal.throwIfAborted();
      const giveUp = () => {
        const at = this.queue.indexOf(caller);
        if (at >= 0) this.queue.splice(at, 1);
        reject(signal.reason);
        this.settleIdle();
      };
      const settled = <A extends unknown[]>(settle: (...args: A) => void) => (...args: A) => {
        signal.removeEventListener('abort', giveUp);
        settle(...args);
      };
      const caller = { item, weight: this.options.weightOf?.(item) ?? 1, resolve: settled(resolve), reject: settled(reject) };
      signal.addEventListener('abort', giveUp, { once: true });
      this.queue.push(caller);
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or being written (the items queued meanwhile written too). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private settleIdle(): void {
    if (this.queue.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async writeEachAlone(callers: Coalescer<T>['queue']): Promise<void> {
    for (const caller of callers) {
      try {
        await this.write([caller.item]);
        caller.resolve();
      } catch (error) {
        caller.reject(error);
      }
    }
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    const maxWeight = this.options.maxWeight ?? Number.POSITIVE_INFINITY;
    let taken = 0;
    let weight = 0;
    while (taken < this.queue.length && (taken === 0 || weight + this.queue[taken]!.weight <= maxWeight)) weight += this.queue[taken++]!.weight;
    const callers = this.queue.splice(0, taken);
    this.inFlight += 1;
    try {
      await this.write(callers.map((c) => c.item));
      for (const caller of callers) caller.resolve();
    } catch (error) {
      if (callers.length > 1 && this.options.splitOn?.(error)) await this.writeEachAlone(callers);
      else for (const caller of callers) caller.reject(error);
    } finally {
      this.inFlight -= 1;
      this.schedule();
      this.settleIdle();
    }
  }
}
