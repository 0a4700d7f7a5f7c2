import { ForbiddenProblem, RateLimiter, UnauthorizedProblem, hashSecret } from '@tower/shared';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry } from './devices.ts';

const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ';
const registry = new DeviceRegistry([
  { id: 'bl2-gw-1', site: 'bac-luan-2', keySha256: hashSecret(secret), enabled: true },
  { id: 'vn-gw-1', site: 'van-ninh', keySha256: hashSecret(secret), enabled: false },
]);

describe('device keys', () => {
  it('authenticates a device by id and secret', () => {
    expect(registry.authenticate(`Bearer bl2-gw-1.${secret}`)).toEqual({ id: 'bl2-gw-1', site: 'bac-luan-2' });
    // The scheme is case-insensitive (RFC 9110).
    expect(registry.authenticate(`bearer bl2-gw-1.${secret}`)).toEqual({ id: 'bl2-gw-1', site: 'bac-luan-2' });
    expect(registry.authenticate(`BEARER  bl2-gw-1.${secret}`)).toEqual({ id: 'bl2-gw-1', site: 'bac-luan-2' });
  });

  it('answers 401 for missing, malformed, unknown or wrong keys and 403 for a disabled device', () => {
    expect(() => registry.authenticate(undefined)).toThrow(UnauthorizedProblem);
    expect(() => registry.authenticate('Basic abc')).toThrow(UnauthorizedProblem);
    expect(() => registry.authenticate(`Bearer nobody.${secret}`)).toThrow(/unknown device or wrong key/);
    expect(() => registry.authenticate(`Bearer bl2-gw-1.${secret}x`)).toThrow(UnauthorizedProblem);
    expect(() => registry.authenticate(`Bearer vn-gw-1.${secret}`)).toThrow(ForbiddenProblem);
  });
});

describe('rate limit', () => {
  it('allows a burst, then refills at the rate', () => {
    let now = 0;
    const limiter = new RateLimiter(100, 500, () => now);
    expect(limiter.take('d', 500)).toEqual({ allowed: true });
    expect(limiter.take('d', 50)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500; // 50 tokens back
    expect(limiter.take('d', 50)).toEqual({ allowed: true });
    expect(limiter.take('other', 500)).toEqual({ allowed: true });
    expect(limiter.take('d', 1000)).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });
});
