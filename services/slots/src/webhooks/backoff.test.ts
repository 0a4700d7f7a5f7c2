import { describe, expect, it } from 'vitest';
import { givenUp, retryDelayMs } from './backoff.ts';

describe('webhook retries', () => {
  const policy = { initialMs: 10_000, maxMs: 3_600_000, retryForMs: 86_400_000 };

  it('wait 10 s, 20 s, 40 s … doubling, at most an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelayMs(n, policy) / 1000)).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560]);
    expect(retryDelayMs(10, policy)).toBe(3_600_000);
    expect(retryDelayMs(5000, policy)).toBe(3_600_000);
  });

  it('stop 24 hours after the delivery was queued: 33 attempts with the defaults', () => {
    expect(givenUp(0, 86_400_000 - 1, policy)).toBe(false);
    expect(givenUp(0, 86_400_000, policy)).toBe(true);
    let at = 0;
    let attempts = 1;
    while (!givenUp(0, at, policy)) at += retryDelayMs(attempts++, policy);
    expect(attempts).toBe(33);
  });
});
