import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { atLeast, eventuallyProgressing } from './progress.ts';

/** The wait under fake timers: `run` advances the clock by `ms` and reports how the wait ended, if it did. */
function underFakeClock<T>(wait: Promise<T>) {
  const outcome: { value?: T; error?: Error } = {};
  const settled = wait.then(
    (value) => void (outcome.value = value),
    (error: Error) => void (outcome.error = error),
  );
  return {
    outcome,
    run: async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      await Promise.race([settled, Promise.resolve()]);
      return outcome;
    },
  };
}

describe('eventuallyProgressing', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('fails a wait whose figure stands still for stallMs, naming what and where it stopped', async () => {
    const wait = underFakeClock(eventuallyProgressing({ what: '10 events stored', progress: () => 7, until: atLeast(10), stallMs: 5_000 }));
    expect(await wait.run(4_900)).toEqual({});
    const { error } = await wait.run(200);
    expect(error?.message).toMatch(/^timed out waiting for 10 events stored: no progress for 5 s \(at 7 after 5\.\d s\)$/);
  });

  it('does not fail a slow but moving wait, however long it takes below the cap', async () => {
    let stored = 0;
    // One event per read: 2,000 reads of 50 ms, 100 s in all, twenty times the stall limit.
    const wait = underFakeClock(eventuallyProgressing({ what: 'every event', progress: () => (stored += 1), until: atLeast(2_000), stallMs: 5_000 }));
    expect(await wait.run(60_000)).toEqual({});
    expect(await wait.run(60_000)).toEqual({ value: 2_000 });
  });

  it('restarts the stall clock at each movement, in either direction', async () => {
    let lag = 50;
    const wait = underFakeClock(eventuallyProgressing({ what: 'a lag of 0', progress: () => lag, until: (figure) => (figure === 0 ? true : undefined), stallMs: 5_000 }));
    for (let step = 0; step < 10; step += 1) {
      expect(await wait.run(4_000)).toEqual({});
      lag -= 5;
    }
    expect(await wait.run(100)).toEqual({ value: true });
  });

  it('counts a throwing read as no movement and says why it last failed', async () => {
    let away = true;
    let figure = 0;
    const progress = () => {
      if (away) throw new Error('connect ECONNREFUSED 127.0.0.1:27123');
      return (figure += 1);
    };
    const failing = underFakeClock(eventuallyProgressing({ what: 'rows', progress, until: atLeast(100), stallMs: 5_000 }));
    expect((await failing.run(5_100)).error?.message).toMatch(/no progress for 5 s \(never read after 5\.\d s\); last error: connect ECONNREFUSED/);

    const recovering = underFakeClock(eventuallyProgressing({ what: 'rows', progress, until: atLeast(100), stallMs: 5_000 }));
    expect(await recovering.run(3_000)).toEqual({});
    away = false;
    expect(await recovering.run(30_000)).toEqual({ value: 100 });
  });

  it('fails a wait whose read never answers, after stallMs like a figure standing still', async () => {
    const hung = underFakeClock(eventuallyProgressing({ what: 'rows', progress: () => new Promise<number>(() => undefined), until: atLeast(1), stallMs: 5_000 }));
    expect(await hung.run(4_900)).toEqual({});
    expect((await hung.run(200)).error?.message).toMatch(/^timed out waiting for rows: no progress for 5 s \(never read after 5\.\d s\); last error: a read unanswered after 5\.\d s when the time ran out$/);

    let figure = 0;
    const stuckCondition = underFakeClock(eventuallyProgressing({ what: 'the end', progress: () => (figure += 1), until: () => new Promise<undefined>(() => undefined), stallMs: 5_000 }));
    expect((await stuckCondition.run(5_100)).error?.message).toMatch(/^timed out waiting for the end: no progress for 5 s/);
  });

  it('with monotone, counts only a new highest figure as movement: an oscillating figure stalls', async () => {
    let differing = 3;
    const oscillating = () => (differing = differing === 3 ? 4 : 3);
    const monotone = underFakeClock(eventuallyProgressing({ what: 'no differences', progress: oscillating, until: (n) => (n === 0 ? true : undefined), stallMs: 5_000, monotone: true }));
    expect((await monotone.run(5_100)).error?.message).toMatch(/no progress for 5 s/);

    const plain = underFakeClock(eventuallyProgressing({ what: 'no differences', progress: oscillating, until: (n) => (n === 0 ? true : undefined), stallMs: 5_000 }));
    expect(await plain.run(20_000)).toEqual({});
  });

  it('fails after the cap even while the figure moves', async () => {
    let figure = 0;
    const wait = underFakeClock(eventuallyProgressing({ what: 'the end', progress: () => (figure += 1), until: () => undefined, stallMs: 5_000, capMs: 30_000 }));
    expect(await wait.run(29_000)).toEqual({});
    expect((await wait.run(2_000)).error?.message).toMatch(/^timed out waiting for the end: still progressing but over the 30 s cap \(at \d+ after 30\.\d s\)$/);
  });

  it('hands back what the condition returns', async () => {
    const messages = ['snapshot', 'delta 1', 'delta 2'];
    const found = eventuallyProgressing({ what: 'delta 2', progress: () => messages.length, until: () => messages.find((m) => m === 'delta 2') });
    await vi.advanceTimersByTimeAsync(0);
    await expect(found).resolves.toBe('delta 2');
  });
});
