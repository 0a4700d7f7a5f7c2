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
 * arrival due by then is fired (none skipped after a stall, as nanotimer does). Timer
 * resolution is a millisecond; the count of arrivals is exact.
 */
import { createRequire } from 'node:module';

type Task = (...args: unknown[]) => void;
/** The part of nanotimer's NanoTimer the uniform arrival process uses. */
export interface IntervalTimer {
  setInterval(task: Task, args: unknown, interval: string, callback?: () => void): void;
  clearInterval(): void;
}

/**
 * Keys shared across bundles (the processor and the device engine are bundled apart and
 * both ask, in one worker): the mark of a prototype made to sleep, each timer's state,
 * and the time the arrival being fired was due.
 */
const sleeping = Symbol.for('tower.loadKit.sleepingArrivals');
const state = Symbol.for('tower.loadKit.arrivalTimer');
const dueKey = Symbol.for('tower.loadKit.arrivalDueAt');

interface TimerState {
  handle?: NodeJS.Timeout;
  cleared: boolean;
  callback?: () => void;
}
type SleepingTimer = IntervalTimer & { [state]?: TimerState };

const unitMs: Record<string, number> = { s: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** nanotimer's interval notation (an integer and a unit: `6666u`) in milliseconds. */
export function intervalMs(interval: string): number {
  const match = /^(\d+(?:\.\d+)?)([smun])$/.exec(interval);
  if (!match) throw new Error(`not a nanotimer interval: ${JSON.stringify(interval)}`);
  const ms = Number(match[1]) * unitMs[match[2]!]!;
  if (!(ms > 0)) throw new Error(`a nanotimer interval must be positive, not ${JSON.stringify(interval)}`);
  return ms;
}

/**
 * When the arrival being fired was due (`performance.now()` time), read by whatever the
 * arrival starts synchronously (Artillery runs the virtual user's scenario at once): the
 * device engine times a batch from then, so a late timer (a busy event loop, a stall's
 * catch-up) counts in the answer time instead of being hidden. Undefined outside a firing.
 */
export function arrivalDueAt(): number | undefined {
  return (globalThis as { [dueKey]?: number })[dueKey];
}

/** Makes every NanoTimer's `setInterval` sleep between arrivals (in place: the prototype is shared with the `arrivals` package). */
export function sleepingArrivals(timer: { prototype: IntervalTimer & { [sleeping]?: true } }, now: () => number = () => performance.now()): void {
  if (timer.prototype[sleeping]) return;
  timer.prototype[sleeping] = true;
  const published = globalThis as { [dueKey]?: number };
  timer.prototype.setInterval = function (this: SleepingTimer, task, args, interval, callback) {
    const periodMs = intervalMs(interval);
    const previous = this[state];
    if (previous) {
      // Started again without a clear (arrivals never does): the earlier run stops.
      previous.cleared = true;
      clearTimeout(previous.handle);
    }
    const own: TimerState = { cleared: false, ...(callback ? { callback } : {}) };
    this[state] = own;
    const startedAt = now();
    let fired = 0;
    const tick = () => {
      const due = Math.floor((now() - startedAt) / periodMs);
      try {
        // The task may clear the interval (the uniform process stops itself after its last arrival).
        while (fired < due && !own.cleared) {
          fired += 1;
          published[dueKey] = startedAt + fired * periodMs;
          if (Array.isArray(args)) task(...(args as unknown[]));
          else task();
        }
      } finally {
        published[dueKey] = undefined;
        // Node truncates a fractional delay: round up, or it wakes early to find nothing due.
        if (!own.cleared) own.handle = setTimeout(tick, Math.max(1, Math.ceil(startedAt + (fired + 1) * periodMs - now())));
      }
    };
    own.handle = setTimeout(tick, Math.ceil(periodMs));
  };
  timer.prototype.clearInterval = function (this: SleepingTimer) {
    const own = this[state];
    if (!own || own.cleared) return;
    own.cleared = true;
    clearTimeout(own.handle);
    own.callback?.();
  };
}

/**
 * In an Artillery worker (its script, `process.argv[1]`, is Artillery's worker module):
 * the NanoTimer the `arrivals` package loaded, made to sleep. Throws when the kit's
 * Artillery no longer times arrivals that way (a new version in loadtests/kit): the load
 * would be timed by a busy loop again.
 */
export function sleepArtilleryArrivals(artilleryScript = process.argv[1] ?? ''): void {
  const fromArtillery = createRequire(artilleryScript);
  const arrivalsPath = fromArtillery.resolve('arrivals');
  const expected = 'the load kit expected Artillery to time arrivals with nanotimer through the arrivals package, loaded before the processor: check loadtests/sre/arrival-timer.ts against the kit’s Artillery';
  if (!fromArtillery.cache[arrivalsPath]) throw new Error(`${expected} (arrivals is not loaded in this worker)`);
  const NanoTimer = createRequire(arrivalsPath)('nanotimer') as { prototype: IntervalTimer };
  if (typeof NanoTimer.prototype?.setInterval !== 'function') throw new Error(expected);
  sleepingArrivals(NanoTimer);
}
