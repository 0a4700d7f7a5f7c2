/**
 * At most `limit` holders at once; the others wait their turn, first come first served.
 * A wait ends early, rejected with its signal's reason, when the signal aborts: a
 * subscriber that went away leaves the queue instead of taking a place it no longer needs.
 */
export class Semaphore {
  private holders = 0;
  /** Grants in arrival order (a Set keeps insertion order and drops a leaver at once). */
  private readonly waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Nobody holds a place and nobody waits. */
  get idle(): boolean {
    return this.holders === 0 && this.waiting.size === 0;
  }

  /** Resolves with `release` (idempotent) once a place is free. */
  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      if (this.holders < this.limit && this.waiting.size === 0) {
        this.holders += 1;
        return resolve(this.releaser());
      }
      const grant = () => {
        signal.removeEventListener('abort', leave);
        this.holders += 1;
        resolve(this.releaser());
      };
      const leave = () => {
        this.waiting.delete(grant);
        reject(signal.reason);
      };
      this.waiting.add(grant);
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  /** Runs `work` holding a place; a signal that aborted while it waited frees the place without running it. */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(signal);
    try {
      signal.throwIfAborted();
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      for (const grant of this.waiting) {
        if (this.holders >= this.limit) return;
        this.waiting.delete(grant);
        grant();
      }
    };
  }
}
