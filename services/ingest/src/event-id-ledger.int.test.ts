import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { RedisEventIdLedger } from './event-id-ledger.ts';

describe('eventId record in Redis', () => {
  test('binds each new id to its first content, in order within a call, case-insensitively, with an expiry', async ({ redis }) => {
    const ledger = new RedisEventIdLedger(redis.redis, 3600);
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await ledger.claim([{ eventId: a, digest: 'x' }, { eventId: b, digest: 'y' }, { eventId: a, digest: 'x' }, { eventId: b, digest: 'z' }])).toEqual(['first', 'first', 'same', 'conflict']);
    expect(await ledger.claim([{ eventId: a.toUpperCase(), digest: 'x' }, { eventId: b.toUpperCase(), digest: 'z' }])).toEqual(['same', 'conflict']);
    expect(await ledger.claim([])).toEqual([]);
    expect(await redis.redis.get(`ingest:event:${b}`)).toBe('y');
    const ttl = await redis.redis.ttl(`ingest:event:${a}`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });
});
