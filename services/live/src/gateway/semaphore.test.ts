import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.ts';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('lets `limit` holders in at once; the others get in first come first served as places free', async () => {
    const semaphore = new Semaphore(2);
    const signal = new AbortController().signal;
    const order: number[] = [];
    const releases = new Map<number, () => void>();
    for (const n of [1, 2, 3, 4]) {
      void semaphore.acquire(signal).then((release) => {
        order.push(n);
        releases.set(n, release);
      });
    }
    await settled();
    expect(order).toEqual([1, 2]);
    releases.get(2)!();
    releases.get(2)!(); // a second release of the same place frees nothing more
    await settled();
    expect(order).toEqual([1, 2, 3]);
    releases.get(1)!();
    await settled();
    expect(order).toEqual([1, 2, 3, 4]);
    expect(semaphore.idle).toBe(false);
    releases.get(3)!();
    releases.get(4)!();
    expect(semaphore.idle).toBe(true);
  });

  it('a waiter whose signal aborts leaves the queue with the reason and takes no place', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire(new AbortController().signal);
    const leaving = new AbortController();
    const left = semaphore.acquire(leaving.signal);
    const next = semaphore.acquire(new AbortController().signal);
    const reason = new Error('replaced');
    leaving.abort(reason);
    await expect(left).rejects.toBe(reason);
    release();
    const nextRelease = await next; // the place went to the one still waiting
    nextRelease();
    expect(semaphore.idle).toBe(true);
    await expect(semaphore.acquire(leaving.signal)).rejects.toBe(reason); // already aborted: refused at once
  });

  it('run: the work holds a place until it settles; a signal aborted while waiting runs nothing', async () => {
    const semaphore = new Semaphore(1);
    let finish: () => void = () => {};
    const first = semaphore.run(new AbortController().signal, () => new Promise<string>((resolve) => (finish = () => resolve('first'))));
    const controller = new AbortController();
    let ran = false;
    const second = semaphore
      .run(controller.signal, async () => {
        ran = true;
      })
      .catch((error: unknown) => error);
    await settled();
    controller.abort(new Error('gone'));
    finish();
    expect(await first).toBe('first');
    expect(await second).toEqual(new Error('gone'));
    expect(ran).toBe(false);
    expect(semaphore.idle).toBe(true);
  });
});
