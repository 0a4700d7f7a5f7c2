import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { checkedApiProcesses } from '../config.ts';

describe('SLOTS_API_PROCESSES', () => {
  const settings = { RATE_BURST: 100, BATCH_MAX_ITEMS: 20 };

  it('0 is one API process per core but one, and at least one', () => {
    expect(checkedApiProcesses({ ...settings, RATE_BURST: 1_000_000, SLOTS_API_PROCESSES: 0 })).toBe(Math.max(1, os.availableParallelism() - 1));
  });

  it('0 never asks for more processes than the stock burst can be shared by (a many-core host starts with stock settings)', () => {
    expect(checkedApiProcesses({ ...settings, SLOTS_API_PROCESSES: 0 })).toBe(Math.max(1, Math.min(os.availableParallelism() - 1, 5)));
    expect(checkedApiProcesses({ RATE_BURST: 20, BATCH_MAX_ITEMS: 20, SLOTS_API_PROCESSES: 0 })).toBe(1);
  });

  it('refuses more processes than the largest batch leaves each a share of the burst for', () => {
    expect(checkedApiProcesses({ ...settings, SLOTS_API_PROCESSES: 5 })).toBe(5);
    expect(() => checkedApiProcesses({ ...settings, SLOTS_API_PROCESSES: 6 })).toThrow(/BATCH_MAX_ITEMS \(20\) must be at most RATE_BURST \/ 6 API processes \(16\)/);
    // One process holds the whole burst: BATCH_MAX_ITEMS over it is the batch route's own refusal, as before.
    expect(checkedApiProcesses({ ...settings, BATCH_MAX_ITEMS: 200, SLOTS_API_PROCESSES: 1 })).toBe(1);
  });
});
