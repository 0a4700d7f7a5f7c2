import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { apiProcessesOf } from '../config.ts';

describe('SLOTS_API_PROCESSES', () => {
  it('0 is one API process per core but one, and at least one', () => {
    expect(apiProcessesOf(0)).toBe(Math.max(1, os.availableParallelism() - 1));
  });

  it('takes any count asked: a key’s budget is shared in Redis, not cut into per-process shares a batch must fit', () => {
    expect(apiProcessesOf(6)).toBe(6);
    expect(apiProcessesOf(64)).toBe(64);
  });
});
