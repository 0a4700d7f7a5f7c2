/**
 * A token bucket per caller (a device counted in events, an API key in requests):
 * `ratePerSecond` refills, `burst` caps. In memory, per process (several instances each
 * apply their own limit).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  private sweepAbove: number;

  /**
   * `maxCallers`: past this many callers tracked, those whose bucket has refilled (as good
   * as never seen) are forgotten, so callers that come and go (client addresses) do not
   * grow it without end; a caller still refilling is never forgotten.
   */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxCallers = 10_000,
  ) {
    this.sweepAbove = maxCallers;
  }

  /** How many callers have a bucket now. */
  callers(): number {
    return this.buckets.size;
  }

  private forgetRefilled(now: number): void {
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(caller);
    }
    // All still refilling: sweep again only once as many more have come.
    this.sweepAbove = Math.max(this.maxCallers, this.buckets.size * 2);
  }

  /** Takes `cost` tokens, or returns how many seconds to wait before it could. */
  take(caller: string, cost: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (this.buckets.size > this.sweepAbove) this.forgetRefilled(now);
    if (cost > this.burst) return { allowed: false, retryAfterSeconds: Math.ceil(cost / this.ratePerSecond) };
    if (bucket.tokens < cost) return { allowed: false, retryAfterSeconds: Math.ceil((cost - bucket.tokens) / this.ratePerSecond) };
    bucket.tokens -= cost;
    return { allowed: true };
  }
}
