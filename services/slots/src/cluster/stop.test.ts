import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '@tower/shared';
import { stopPhase, type Stoppable } from './stop.ts';

/** A process that exits `afterMs` after its stop order (never: stuck), or when killed. */
function member(name: string, afterMs: number | undefined, log: string[]): Stoppable {
  let exit: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => (exit = resolve));
  return {
    name,
    order: () => {
      log.push(`${name} ordered`);
      if (afterMs !== undefined) setTimeout(() => (log.push(`${name} exited`), exit()), afterMs);
    },
    kill: () => (log.push(`${name} killed`), exit()),
    exited,
  };
}

describe('the primary’s stop phases', () => {
  it('kills a stuck API process at its phase’s share, and the duties phase still has its whole share', async () => {
    vi.useFakeTimers();
    try {
      const log: string[] = [];
      const logger = createLogger({ service: 'slots', level: 'silent' });
      const stop = (async () => [
        await stopPhase('api', [member('api 1', 100, log), member('api 2', undefined, log)], 20_000, logger),
        // The duties process takes 25 s: more than the whole deadline left after a stuck API phase under one deadline of 30 s.
        await stopPhase('duties', [member('duties 0', 25_000, log)], 30_000, logger),
      ])();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(await stop).toEqual([false, true]);
      expect(log).toEqual(['api 1 ordered', 'api 2 ordered', 'api 1 exited', 'api 2 killed', 'duties 0 ordered', 'duties 0 exited']);
    } finally {
      vi.useRealTimers();
    }
  });
});
