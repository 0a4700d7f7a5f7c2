/** How a failed delivery is retried: exponential backoff, capped, for a bounded time. */
export interface RetryPolicy {
  /** Wait after the first failure; doubled after each further one. */
  initialMs: number;
  /** Longest wait between two attempts. */
  maxMs: number;
  /** A delivery still failing this long after it was queued is given up (state `failed`) and its booking's next one is sent. */
  retryForMs: number;
}

/** The wait before the next attempt after `failures` failed attempts (1 or more): initial × 2^(failures − 1), at most `maxMs`. */
export function retryDelayMs(failures: number, policy: Pick<RetryPolicy, 'initialMs' | 'maxMs'>): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures - 1, 0), 52));
}

/** Whether a delivery queued at `queuedAt` that just failed again is given up rather than retried. */
export function givenUp(queuedAt: number, now: number, policy: Pick<RetryPolicy, 'retryForMs'>): boolean {
  return now - queuedAt >= policy.retryForMs;
}
