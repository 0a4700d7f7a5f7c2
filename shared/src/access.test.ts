import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessRegistry, bearerToken, readAccessRegistry } from './access.ts';
import { hashSecret } from './devices.ts';

describe('AccessRegistry', () => {
  const registry = new AccessRegistry([
    { id: 'wall-1', role: 'display', name: 'wall', tokenSha256: hashSecret('s3cret'), maxConnections: 5, enabled: true },
    { id: 'old', role: 'display', name: 'retired', tokenSha256: hashSecret('s3cret'), maxConnections: 5, enabled: false },
  ]);

  it('accepts an enabled token with the right secret only', () => {
    expect(registry.verify('wall-1.s3cret')?.id).toBe('wall-1');
    expect(registry.verify('wall-1.wrong')).toBeUndefined();
    expect(registry.verify('nobody.s3cret')).toBeUndefined();
    expect(registry.verify('old.s3cret')).toBeUndefined();
    expect(registry.verify('s3cret')).toBeUndefined();
    expect(registry.verify('.s3cret')).toBeUndefined();
  });

  it('takes the Bearer scheme in any case (RFC 9110: schemes are case-insensitive)', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      expect(bearerToken(`${scheme} wall-1.s3cret`)).toBe('wall-1.s3cret');
      expect(registry.authenticate(`${scheme} wall-1.s3cret`, 'the token').id).toBe('wall-1');
    }
    expect(bearerToken('Bearer \t wall-1.s3cret ')).toBe('wall-1.s3cret');
    expect(bearerToken('Basic d2FsbC0xOnMzY3JldA==')).toBe('');
    expect(bearerToken('Bearerwall-1.s3cret')).toBe('');
    expect(bearerToken('Bearer ')).toBe('');
    expect(bearerToken(undefined)).toBe('');
  });

  it('reads a registry file and names the first problem of a bad one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-'));
    const file = path.join(dir, 'access.json');
    expect(() => readAccessRegistry(file)).toThrow(/does not exist; npm start/);
    fs.writeFileSync(file, JSON.stringify({ version: 1, tokens: [{ id: 'w', role: 'admin', name: 'x', tokenSha256: hashSecret('a'), maxConnections: 1, enabled: true }] }));
    expect(() => readAccessRegistry(file)).toThrow(/access registry .* is invalid at \/tokens\/0\/role/);
  });
});
