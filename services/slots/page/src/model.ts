/** What the booking page decides without the DOM: days, lane groups, countdowns, which action a booking allows, refusals in words. */
import type { AvailabilityWindow, Booking, Problem } from './api.ts';
import { dictionaries, locales, translate, type Language, type MessageKey } from './i18n.ts';

const dayMs = 86_400_000;
/** Vietnam is UTC+7 all year (no daylight saving). */
const vietnamOffsetMs = 7 * 3_600_000;

export interface Day {
  /** Vietnam date, YYYY-MM-DD. */
  date: string;
  /** Its first and last instant as ISO 8601 with the offset, as the API takes them. */
  from: string;
  to: string;
}

/** Today and the days after it in Vietnam, `count` in all. */
export function nextDays(now: number, count: number): Day[] {
  const today = Math.floor((now + vietnamOffsetMs) / dayMs);
  return Array.from({ length: count }, (_, i) => {
    const date = isoDate(today + i);
    return { date, from: `${date}T00:00:00+07:00`, to: `${isoDate(today + i + 1)}T00:00:00+07:00` };
  });
}

const isoDate = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

/** `Th 2, 30/11` / `Mon 30 Nov` / `11月30日 周一`: a day as a dispatcher names it. */
export function dayLabel(date: string, language: Language): string {
  return new Intl.DateTimeFormat(locales[language], { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

/** `21:00` from `2026-11-30T21:00:00+07:00` (the API's times are Vietnam time already). */
export const clockOf = (iso: string) => iso.slice(11, 16);
/** `30/11 21:00`: a day and time in Vietnam time, short. */
export const shortDateTime = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)} ${clockOf(iso)}`;
/** `02/12 08:00`: an instant the page computed (the cancel cut-off), in Vietnam time. */
export const shortVietnamTime = (ms: number) => shortDateTime(new Date(ms + vietnamOffsetMs).toISOString());

export interface LaneGroup {
  key: string;
  laneKind: string;
  direction: string;
  names: Record<string, string>;
}

export const laneGroupKey = (w: { laneKind: string; direction: string }) => `${w.laneKind}|${w.direction}`;

/** The lane groups of an availability answer, in its order. */
export function laneGroups(windows: readonly AvailabilityWindow[]): LaneGroup[] {
  const groups = new Map<string, LaneGroup>();
  for (const w of windows) {
    const key = laneGroupKey(w);
    if (!groups.has(key)) groups.set(key, { key, laneKind: w.laneKind, direction: w.direction, names: w.laneGroupNames });
  }
  return [...groups.values()];
}

/** A window can still be held: not ended, open, a place free. */
export const bookable = (w: AvailabilityWindow, now: number) => w.windowEnd > now && !w.closed && w.free > 0;

/** `4:59`, `0:07`: minutes and seconds left, never below zero. */
export function countdown(leftMs: number): string {
  const seconds = Math.max(0, Math.ceil(leftMs / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** What the firm may still do with a booking (docs/slots.md: a confirmed one is cancelled only before the cut-off). */
export function actionsOf(booking: Booking, now: number, cancelCutoffMs: number): { confirm: boolean; cancel: boolean } {
  const held = booking.state === 'held' && booking.heldUntil > now;
  const cancel = held || (booking.state === 'confirmed' && now <= booking.windowStart - cancelCutoffMs);
  return { confirm: held, cancel };
}

export const activeStates: ReadonlySet<string> = new Set(['held', 'confirmed', 'checked-in', 'late']);

export interface BookingFilter {
  /** 'active', 'all' or one state. */
  state: string;
  plate: string;
}

const plateKey = (plate: string) => plate.toUpperCase().replace(/[^0-9A-Z]/g, '');

/** The bookings the filters let through, the soonest window first. */
export function filterBookings(bookings: readonly Booking[], filter: BookingFilter): Booking[] {
  const plate = plateKey(filter.plate);
  return bookings
    .filter((b) => (filter.state === 'all' ? true : filter.state === 'active' ? activeStates.has(b.state) : b.state === filter.state))
    .filter((b) => !plate || plateKey(b.plate).includes(plate))
    .sort((a, b) => a.windowStart - b.windowStart || a.plate.localeCompare(b.plate));
}

/** Newer wins per booking id (the list and single answers may cross). */
export function mergeBookings(current: ReadonlyMap<string, Booking>, incoming: readonly Booking[]): Map<string, Booking> {
  const merged = new Map(current);
  for (const booking of incoming) {
    const known = merged.get(booking.id);
    if (!known || known.updatedAt <= booking.updatedAt) merged.set(booking.id, booking);
  }
  return merged;
}

/** A refusal in the dispatcher's language, saying what to do; one the page does not know shows the API's title. */
export function problemMessage(problem: Problem, language: Language): string {
  const key = `problem.${problem.code}`;
  if (!(key in dictionaries[language])) return translate(language, 'problem.unknown', { title: problem.title });
  return translate(language, key as MessageKey, { detail: problem.detail, cap: problem.cap ?? '', seconds: problem.retryAfter ?? 1 });
}

/** The webhook events a firm may ask for, in the order the page offers them (services/slots/src/webhooks/store.ts webhookEventTypes; i18n.test.ts holds them equal). */
export const webhookEvents = ['booking.state-changed', 'window.closed', 'window.capacity-cut', 'conditions.threshold-crossed', 'endpoint.paused'] as const;
