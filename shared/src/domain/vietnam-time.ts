import { Type } from '@sinclair/typebox';

/**
 * Times as dispatchers read and write them: ISO 8601 in Vietnam time (UTC+7 all year, no
 * daylight saving), next to the epoch milliseconds the API has always carried.
 */
export const vietnamOffsetMs = 7 * 3_600_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * An instant as ISO 8601 in Vietnam time: `2026-11-30T21:00:00+07:00`; milliseconds only
 * when there are some (`…T21:00:00.250+07:00`), so Date.parse gives the instant back exactly.
 */
export function vietnamIso(ms: number): string {
  const local = new Date(ms + vietnamOffsetMs);
  const millis = local.getUTCMilliseconds();
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${millis === 0 ? '' : `.${pad(millis, 3)}`}`;
  return `${date}T${time}+07:00`;
}

/** `HH:MM` in Vietnam time. */
const vietnamClock = (ms: number) => vietnamIso(ms).slice(11, 16);

/** A window's label in Vietnam time, `21:00–21:30` (one that ends at midnight: `23:30–00:00`). */
export const vietnamWindowLabel = (start: number, end: number) => `${vietnamClock(start)}–${vietnamClock(end)}`;

/** The Vietnam date of an instant, `YYYY-MM-DD`. */
export const vietnamDate = (ms: number) => vietnamIso(ms).slice(0, 10);

const isoParts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An ISO 8601 instant with its offset (`2026-11-30T21:00:00+07:00`, `…T21:00+07:00`,
 * `…T14:00:00.250Z`), as ms since the epoch; else a reason a dispatcher can act on: no
 * offset (whose clock, theirs or the server's?), a space for the offset's + (a query
 * string's + unencoded), 30 February, 24:00, an offset beyond ±14:00. Date.parse alone
 * takes `2026-02-30` for 2 March and a time without offset as the server's.
 */
export function parseIsoInstant(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const parts = isoParts.exec(text);
  if (!parts) {
    const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?/.exec(text)?.[0];
    if (local === text) return { ok: false, reason: `${text} has no offset: add +07:00 for Vietnam time (or Z for UTC), e.g. ${text}+07:00; a time without one is refused` };
    if (local !== undefined && /^ \d{2}:\d{2}$/.test(text.slice(local.length))) return { ok: false, reason: `a space where the offset's + should be: in a query string send + as %2B (${local}%2B${text.slice(local.length + 1)})` };
    return { ok: false, reason: 'must be ms since the epoch or ISO 8601 with its offset, e.g. 2026-11-30T21:00:00+07:00' };
  }
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 9, 10].map((i) => Number(parts[i] ?? 0)) as [number, number, number, number, number, number, number, number];
  const millis = Number((parts[7] ?? '0').padEnd(3, '0'));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, reason: `${text} is not a date and time of the calendar` };
  }
  if (offsetHours * 60 + offsetMinutes > 14 * 60 || offsetMinutes > 59) return { ok: false, reason: 'the offset must be between -14:00 and +14:00' };
  return { ok: true, ms: wall - (parts[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000 };
}

/** The ISO twin of an epoch-ms field in a response schema: same instant, Vietnam time. */
export const VietnamTime = (description: string) => Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?\\+07:00$', description: `${description}, ISO 8601 in Vietnam time (+07:00)`, examples: ['2026-11-30T21:00:00+07:00'] });

/** An instant a request may give either way: ms since the epoch, or ISO 8601 with its offset. */
export const InstantInput = (description: string) =>
  // The string is read by parseIsoInstant (through the route), whose refusals say what to do; a pattern here would answer with a regular expression.
  Type.Union([Type.Integer({ minimum: 0, maximum: 8_640_000_000_000 }), Type.String({ minLength: 10, maxLength: 40, examples: ['2026-11-30T21:00:00+07:00'] })], {
    description: `${description}: ms since the epoch (1796047200000) or ISO 8601 with its offset (2026-11-30T21:00:00+07:00; a time without an offset is refused; in a query string send + as %2B)`,
  });
