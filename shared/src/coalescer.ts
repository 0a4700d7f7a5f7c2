/**
 * Writes that arrive while earlier ones are in flight are merged into one: under load
 * one request carries many callers' items (one Kafka produce request, one ClickHouse
 * insert), when idle a write goes out at once (after the current event-loop turn, so
 * the items of one turn share it). Every caller's promise settles with the write that
 * carried its item, so "resolved" still means "this item is durable". A write carries
 * at most `maxWeight` (by `weightOf`), except that a single item always goes alone.
 */
export class Coalescer<T> {
  private queue: { item: T; weight: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

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

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, weight: this.options.weightOf?.(item) ?? 1, resolve, reject });
      this.schedule();
    });
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
    }
  }
}
