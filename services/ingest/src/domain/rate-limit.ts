/**
 * A token bucket per device, counted in events: `ratePerSecond` refills, `burst` caps.
 * In memory, per ingest process (several instances each apply their own limit).
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `events` tokens, or returns how many seconds to wait before it could. */
  take(device: string, events: number): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(device) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    this.buckets.set(device, bucket);
    if (events > this.burst) return { allowed: false, retryAfterSeconds: Math.ceil(events / this.ratePerSecond) };
    if (bucket.tokens < events) return { allowed: false, retryAfterSeconds: Math.ceil((events - bucket.tokens) / this.ratePerSecond) };
    bucket.tokens -= events;
    return { allowed: true };
  }
}
