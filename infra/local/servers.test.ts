import { describe, expect, it } from 'vitest';
import { newClusterId } from './servers.ts';

describe('newClusterId', () => {
  it('draws again when the id would start with "-" (read as an option by kafka-storage)', () => {
    const draws = [Buffer.from('fb' + '00'.repeat(15), 'hex'), Buffer.from('01'.repeat(16), 'hex')];
    expect(draws[0]!.toString('base64url').startsWith('-')).toBe(true);
    let calls = 0;
    const id = newClusterId(() => draws[calls++]!);
    expect(calls).toBe(2);
    expect(id).toBe(draws[1]!.toString('base64url'));
  });

  it('makes 22-character URL-safe ids', () => {
    for (let i = 0; i < 200; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
