/**
 * Artillery's constant-rate phases (`arrivalRate`, `arrivalCount`) time arrivals with
 * the `nanotimer` package, which busy-waits: every interval shorter than 25 ms, and the
 * last 25 ms of every longer one, is a chain of `setImmediate` checks of the clock. At
 * 150 batches/s that kept half a core busy doing nothing (measured here: the devices'
 * Artillery process at 50–60 % of a core whatever each request cost), on the two cores
 * the system under test shares with the load generator. Its ramps use a sleeping timer
 * (`driftless`) and were not affected.
 *
 * `sleepingArrivals` replaces nanotimer's `setInterval` (the one the `arrivals` package's
 * uniform process calls) in the Artillery worker that loads the processor: each arrival
 * is due at `start + n × interval`, a plain timer wakes at the next one, and every
 * arrival due by then is fired (none skipped after a stall, as nanotimer did). Timer
 * resolution is a millisecond; the count of arrivals is exact.
 */
import { createRequire } from 'node:module';

type Task = (...args: unknown[]) => void;
/** The part of nanotimer's NanoTimer the uniform arrival process uses. */
export interface IntervalTimer {
  setInterval(task: Task, args: unknown, interval: string, callback?: () => void): void;
  clearInterval(): void;
}

/** Marks a prototype already made to sleep (the processor and the device engine both ask, in one worker). */
const sleeping = Symbol('tower.sleepingArrivals');

const unitMs: Record<string, number> = { s: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** nanotimer's interval notation (an integer and a unit: `6666u`) in milliseconds. */
export function intervalMs(interval: string): number {
  const match = /^(\d+(?:\.\d+)?)([smun])$/.exec(interval);
  if (!match) throw new Error(`not a nanotimer interval: ${JSON.stringify(interval)}`);
  return Number(match[1]) * unitMs[match[2]!]!;
}

/** Makes every NanoTimer's `setInterval` sleep between arrivals (in place: the prototype is shared with the `arrivals` package). */
export function sleepingArrivals(timer: { prototype: IntervalTimer & { [sleeping]?: true } }, now: () => number = () => performance.now()): void {
  if (timer.prototype[sleeping]) return;
  timer.prototype[sleeping] = true;
  const running = new WeakMap<IntervalTimer, { handle?: NodeJS.Timeout; cleared: boolean; callback?: () => void }>();
  timer.prototype.setInterval = function (this: IntervalTimer, task, args, interval, callback) {
    const periodMs = intervalMs(interval);
    const startedAt = now();
    const own: { handle?: NodeJS.Timeout; cleared: boolean; callback?: () => void } = { cleared: false, ...(callback ? { callback } : {}) };
    running.set(this, own);
    let fired = 0;
    const tick = () => {
      const due = Math.floor((now() - startedAt) / periodMs);
      // The task may clear the interval (the uniform process stops itself after its last arrival).
      while (fired < due && !own.cleared) {
        fired += 1;
        if (Array.isArray(args)) task(...(args as unknown[]));
        else task();
      }
      if (!own.cleared) own.handle = setTimeout(tick, Math.max(1, startedAt + (fired + 1) * periodMs - now()));
    };
    own.handle = setTimeout(tick, periodMs);
  };
  timer.prototype.clearInterval = function (this: IntervalTimer) {
    const own = running.get(this);
    if (!own || own.cleared) return;
    own.cleared = true;
    clearTimeout(own.handle);
    own.callback?.();
  };
}

/**
 * In an Artillery worker (its script is `process.argv[1]`): the NanoTimer the `arrivals`
 * package loads, made to sleep. Throws when the kit's Artillery no longer times arrivals
 * that way (a new version in loadtests/kit): the load would be timed by a busy loop again.
 */
export function sleepArtilleryArrivals(artilleryScript = process.argv[1] ?? ''): void {
  const fromArtillery = createRequire(artilleryScript);
  const fromArrivals = createRequire(fromArtillery.resolve('arrivals'));
  const NanoTimer = fromArrivals('nanotimer') as { prototype: IntervalTimer };
  if (typeof NanoTimer.prototype?.setInterval !== 'function') throw new Error('the load kit expected Artillery to time arrivals with nanotimer (arrivals package): check loadtests/sre/arrival-timer.ts against the kit’s Artillery');
  sleepingArrivals(NanoTimer);
}
