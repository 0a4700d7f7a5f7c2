import { describe, expect } from 'vitest';
import { test, testRedis } from './testing/fixtures.ts';
import { createRedis, pingRedis } from './redis.ts';

describe('Redis (real server)', () => {
  test('round-trips values, hashes and an atomic script under a per-test prefix', async ({ redis: { redis, prefix }, infra, logger }) => {
    await pingRedis(redis);
    await redis.set('slot:bl2:export', '12');
    expect(await redis.get('slot:bl2:export')).toBe('12');
    await redis.hset('lane:BL2-EX-01', { status: 'open', queue: '7' });
    expect(await redis.hgetall('lane:BL2-EX-01')).toEqual({ status: 'open', queue: '7' });
    const takeIfFree = "local v = tonumber(redis.call('GET', KEYS[1])); if v > 0 then return redis.call('DECR', KEYS[1]) end; return -1";
    expect(await redis.eval(takeIfFree, 1, 'slot:bl2:export')).toBe(11);

    const plain = testRedis(infra, 'prefix-check', logger);
    await plain.connect();
    expect(await plain.get(`${prefix}slot:bl2:export`)).toBe('11');
    plain.disconnect();
  });

  test('a command fails fast instead of queueing when Redis is unreachable', async ({ logger }) => {
    const unreachable = createRedis('redis://127.0.0.1:1', { connectionName: 'unreachable', logger });
    await expect(unreachable.connect()).rejects.toThrow();
    await expect(unreachable.get('x')).rejects.toThrow();
    unreachable.disconnect();
  });
});
