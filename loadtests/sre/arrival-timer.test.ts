import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { arrivalDueAt, intervalMs, sleepingArrivals, type IntervalTimer } from './arrival-timer.ts';

/** A stand-in for nanotimer's NanoTimer whose own timing would busy-wait (setImmediate): it must never be reached. */
class BusyTimer implements IntervalTimer {
  setInterval(..._args: Parameters<IntervalTimer['setInterval']>): void {
    setImmediate(() => undefined);
    throw new Error('the busy-waiting setInterval ran');
  }
  clearInterval(): void {
    throw new Error('the busy-waiting clearInterval ran');
  }
}

describe('the sleeping arrival timer', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('reads nanotimer intervals in every unit', () => {
    expect(intervalMs('6666u')).toBeCloseTo(6.666);
    expect(intervalMs('2m')).toBe(2);
    expect(intervalMs('1s')).toBe(1000);
    expect(intervalMs('500000n')).toBeCloseTo(0.5);
    expect(() => intervalMs('6666')).toThrow(/not a nanotimer interval/);
    expect(() => intervalMs('0u')).toThrow(/must be positive/);
  });

  it('fires one arrival per interval, on timers only, until the task clears it (as the uniform arrival process does)', () => {
    class Timer extends BusyTimer {}
    sleepingArrivals(Timer);
    const timer = new Timer();
    let arrivals = 0;
    // 150 arrivals/s for 2 s, as arrivals' UniformProcess: floor(2000 ms / 6.666 ms) = 300, then it stops itself.
    timer.setInterval(() => {
      arrivals += 1;
      if (arrivals === 300) timer.clearInterval();
    }, '', '6666u');
    vi.advanceTimersByTime(1000);
    expect(arrivals).toBe(150);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(arrivals).toBe(300);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fires every arrival that fell due during a stall at the next wake, none skipped', () => {
    class Timer extends BusyTimer {}
    let stalledMs = 0;
    sleepingArrivals(Timer, () => performance.now() + stalledMs);
    const timer = new Timer();
    let arrivals = 0;
    timer.setInterval(() => (arrivals += 1), '', '10m');
    vi.advanceTimersByTime(100);
    expect(arrivals).toBe(10);
    // The event loop blocked for 250 ms: the clock moved, no timer ran.
    stalledMs = 250;
    vi.advanceTimersByTime(10);
    expect(arrivals).toBe(36);
    timer.clearInterval();
  });

  it('calls the callback given to setInterval at the first clear only (nanotimer calls it at every clear; arrivals passes none), and is made to sleep only once', () => {
    class Timer extends BusyTimer {}
    sleepingArrivals(Timer);
    const patched = Timer.prototype.setInterval;
    sleepingArrivals(Timer);
    expect(Timer.prototype.setInterval).toBe(patched);
    const timer = new Timer();
    const cleared = vi.fn();
    timer.setInterval(() => undefined, '', '1s', cleared);
    timer.clearInterval();
    timer.clearInterval();
    expect(cleared).toHaveBeenCalledTimes(1);
  });

  it('tells the arrival it fires when it was due, late or not, and nothing outside a firing', () => {
    class Timer extends BusyTimer {}
    let stalledMs = 0;
    sleepingArrivals(Timer, () => performance.now() + stalledMs);
    const startedAt = performance.now();
    const timer = new Timer();
    const dueAt: (number | undefined)[] = [];
    timer.setInterval(() => dueAt.push(arrivalDueAt()), '', '10m');
    vi.advanceTimersByTime(20);
    // A 25 ms stall before the next wake: the three arrivals due by then carry their own due times.
    stalledMs = 25;
    vi.advanceTimersByTime(10);
    timer.clearInterval();
    expect(dueAt.map((at) => (at === undefined ? at : Math.round(at - startedAt)))).toEqual([10, 20, 30, 40, 50]);
    expect(arrivalDueAt()).toBeUndefined();
  });

  it('stops an earlier run of the same timer when started again without a clear', () => {
    class Timer extends BusyTimer {}
    sleepingArrivals(Timer);
    const timer = new Timer();
    let first = 0;
    let second = 0;
    timer.setInterval(() => (first += 1), '', '10m');
    vi.advanceTimersByTime(30);
    timer.setInterval(() => (second += 1), '', '10m');
    vi.advanceTimersByTime(30);
    timer.clearInterval();
    expect([first, second]).toEqual([3, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
