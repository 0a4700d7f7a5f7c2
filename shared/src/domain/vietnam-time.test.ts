import { describe, expect, it } from 'vitest';
import { parseIsoInstant, vietnamDate, vietnamIso, vietnamWindowLabel } from './vietnam-time.ts';

const at = (iso: string) => Date.parse(iso);

describe('Vietnam time', () => {
  it('writes an instant as ISO 8601 at +07:00, the day changing at Vietnam midnight, not UTC midnight', () => {
    expect(vietnamIso(at('2026-11-30T14:00:00Z'))).toBe('2026-11-30T21:00:00+07:00');
    expect(vietnamIso(at('2026-11-30T16:59:59Z'))).toBe('2026-11-30T23:59:59+07:00');
    expect(vietnamIso(at('2026-11-30T17:00:00Z'))).toBe('2026-12-01T00:00:00+07:00');
    expect(vietnamIso(at('2026-12-31T17:30:00Z'))).toBe('2027-01-01T00:30:00+07:00');
    expect(vietnamIso(at('2028-02-28T17:00:00Z'))).toBe('2028-02-29T00:00:00+07:00');
    expect(vietnamIso(0)).toBe('1970-01-01T07:00:00+07:00');
    expect(vietnamDate(at('2026-11-30T17:00:00Z'))).toBe('2026-12-01');
  });

  it('keeps milliseconds when there are some, so the text gives the instant back exactly', () => {
    const ms = at('2026-11-30T14:00:00.250Z');
    expect(vietnamIso(ms)).toBe('2026-11-30T21:00:00.250+07:00');
    for (const t of [ms, ms + 1, at('2026-03-29T01:00:00Z'), at('2026-10-25T01:00:00Z'), 1_796_040_000_007]) expect(Date.parse(vietnamIso(t))).toBe(t);
  });

  it('is +07:00 all year: no daylight saving on the dates Europe or China once changed theirs', () => {
    for (const iso of ['2026-03-29T00:30:00Z', '2026-03-29T01:30:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-07-01T12:00:00Z']) {
      expect(vietnamIso(at(iso)).endsWith('+07:00')).toBe(true);
      expect(Date.parse(vietnamIso(at(iso))) - at(iso)).toBe(0);
    }
  });

  it('labels a window by its Vietnam hours, one that ends at midnight ending at 00:00', () => {
    expect(vietnamWindowLabel(at('2026-11-30T14:00:00Z'), at('2026-11-30T14:30:00Z'))).toBe('21:00–21:30');
    expect(vietnamWindowLabel(at('2026-11-30T16:30:00Z'), at('2026-11-30T17:00:00Z'))).toBe('23:30–00:00');
    expect(vietnamWindowLabel(at('2026-11-30T17:00:00Z'), at('2026-11-30T17:30:00Z'))).toBe('00:00–00:30');
  });

  it('reads ISO 8601 with an offset (+07:00, Z, another zone) as the same instant', () => {
    expect(parseIsoInstant('2026-11-30T21:00:00+07:00')).toEqual({ ok: true, ms: at('2026-11-30T14:00:00Z') });
    expect(parseIsoInstant('2026-11-30T21:00+07:00')).toEqual({ ok: true, ms: at('2026-11-30T14:00:00Z') });
    expect(parseIsoInstant('2026-11-30T14:00:00Z')).toEqual({ ok: true, ms: at('2026-11-30T14:00:00Z') });
    expect(parseIsoInstant('2026-11-30T22:00:00+08:00')).toEqual({ ok: true, ms: at('2026-11-30T14:00:00Z') });
    expect(parseIsoInstant('2026-11-30T09:00:00-05:00')).toEqual({ ok: true, ms: at('2026-11-30T14:00:00Z') });
    expect(parseIsoInstant('2026-12-01T00:00:00.5+07:00')).toEqual({ ok: true, ms: at('2026-11-30T17:00:00.500Z') });
  });

  it('refuses a time without an offset, a date not in the calendar, 24:00 and a text that is not ISO 8601', () => {
    for (const text of ['2026-11-30T21:00:00', '2026-11-30 21:00:00+07:00', '2026-11-30', '1796040000000', '2026-11-30T21:00:00+0700', 'tomorrow 9am']) {
      const parsed = parseIsoInstant(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain('+07:00');
    }
    expect(parseIsoInstant('2026-11-30T21:00:00')).toEqual({ ok: false, reason: '2026-11-30T21:00:00 has no offset: add +07:00 for Vietnam time (or Z for UTC), e.g. 2026-11-30T21:00:00+07:00; a time without one is refused' });
    // A query string's unencoded + arrives as a space.
    expect(parseIsoInstant('2026-11-30T21:00:00 07:00')).toEqual({ ok: false, reason: 'a space where the offset\'s + should be: in a query string send + as %2B (2026-11-30T21:00:00%2B07:00)' });
    for (const text of ['2026-02-30T10:00:00+07:00', '2026-13-01T10:00:00+07:00', '2026-11-30T24:00:00+07:00', '2026-11-30T21:60:00+07:00']) {
      expect(parseIsoInstant(text), text).toMatchObject({ ok: false, reason: expect.stringContaining('not a date and time of the calendar') });
    }
    expect(parseIsoInstant('2026-11-30T21:00:00+15:00')).toMatchObject({ ok: false });
  });
});
