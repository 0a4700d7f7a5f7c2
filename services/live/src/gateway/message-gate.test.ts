import { describe, expect, it } from 'vitest';
import { MessageGate } from './message-gate.ts';

describe('MessageGate: one socket’s message rate', () => {
  const rate = { perSecond: 10, burst: 5, closeAfterRefused: 4 };

  it('takes a burst, then warns once, drops quietly, and closes after closeAfterRefused refusals in a row', () => {
    const gate = new MessageGate(rate, () => 0);
    expect(Array.from({ length: 9 }, () => gate.admit())).toEqual(['take', 'take', 'take', 'take', 'take', 'warn', 'drop', 'drop', 'close']);
  });

  it('refills at perSecond, and a message taken ends the run of refusals (the next refusal warns again)', () => {
    let now = 0;
    const gate = new MessageGate(rate, () => now);
    for (let i = 0; i < 5; i += 1) gate.admit();
    expect([gate.admit(), gate.admit(), gate.admit()]).toEqual(['warn', 'drop', 'drop']);
    now += 100; // one message's worth at 10/s
    expect([gate.admit(), gate.admit()]).toEqual(['take', 'warn']);
    now += 1000; // ten more, capped at the burst of five
    expect(Array.from({ length: 6 }, () => gate.admit())).toEqual(['take', 'take', 'take', 'take', 'take', 'warn']);
  });

  it('a client that keeps to the rate is never refused', () => {
    let now = 0;
    const gate = new MessageGate(rate, () => now);
    const admissions = Array.from({ length: 1000 }, () => {
      now += 100;
      return gate.admit();
    });
    expect(new Set(admissions)).toEqual(new Set(['take']));
  });

  it('names the limit and the close code', () => {
    expect(new MessageGate(rate).describe()).toBe('over 10 messages per second (bursts of 5): message dropped; 4 dropped in a row close the connection (4029)');
  });
});
