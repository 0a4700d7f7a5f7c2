import { describe, expect, it } from 'vitest';
import { parseDeadLetterId, parseLimit, parseSince } from './dlq.ts';

describe('npm run dlq options', () => {
  it('--limit takes a whole number from 1 to 100000 and refuses anything else, naming the option', () => {
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('1000')).toBe(1000);
    expect(parseLimit('100000')).toBe(100_000);
    for (const bad of ['abc', '0', '-5', '2.5', '1e3', '', '100001', ' 7']) expect(() => parseLimit(bad), bad).toThrow(/--limit takes a whole number from 1 to 100000/);
  });

  it('--since takes a duration back from now or an ISO time', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(parseSince('2h', now)).toBe(now - 2 * 3_600_000);
    expect(parseSince('2026-11-30T10:00:00Z', now)).toBe(Date.parse('2026-11-30T10:00:00Z'));
    expect(() => parseSince('yesterday', now)).toThrow(/--since takes/);
  });

  it('an id names the dead-letter topic, its partition and offset, as list prints them; the old <partition>:<offset> is refused naming the form', () => {
    expect(parseDeadLetterId('tower.deadletter.v1:0:42')).toEqual({ topic: 'tower.deadletter.v1', partition: 0, offset: 42n });
    for (const bad of ['1:2', 'tower.deadletter.v1:0', 'tower deadletter:0:1', "x':0:1", '']) expect(() => parseDeadLetterId(bad), bad).toThrow(/<dead-letter topic>:<partition>:<offset>/);
  });
});
