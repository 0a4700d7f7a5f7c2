/**
 * A token bucket per caller (a device counted in events, an API key in requests):
 * `ratePerSecond` refills, `burst` caps. In memory, per process (several instances each
 * apply their own limit).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens, or returns how many seconds to wait before it could. */
  take(caller: string, cost: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (cost > this.burst) return { allowed: false, retryAfterSeconds: Math.ceil(cost / this.ratePerSecond) };
    if (bucket.tokens < cost) return { allowed: false, retryAfterSeconds: Math.ceil((cost - bucket.tokens) / this.ratePerSecond) };
    bucket.tokens -= cost;
    return { allowed: true };
  }
}
