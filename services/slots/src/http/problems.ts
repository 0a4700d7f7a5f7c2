import { ProblemError, ValidationProblem, type Site } from '@tower/shared';
import type { BookingRefusal } from '../domain/bookings.ts';
import type { HoldRefusal } from '../domain/ledger.ts';

const titles: Record<Exclude<HoldRefusal | BookingRefusal, 'window-past' | 'window-not-aligned' | 'idempotency-key-reused'> | 'site-under-construction', string> = {
  'site-under-construction': 'The site is under construction',
  'window-full': 'The window is full',
  'window-closed': 'The window is closed',
  'firm-cap-reached': 'The firm’s cap for this window is reached',
  'plate-already-booked': 'The truck is already booked in this window',
  'not-held': 'The booking is not on hold',
  'hold-expired': 'The hold has expired',
  'not-cancellable': 'The booking can no longer be cancelled',
  'past-cancel-cutoff': 'The cancellation cut-off has passed',
  'not-expected': 'The booking does not expect an arrival',
  'not-arrived': 'The truck has not arrived',
};

/**
 * A booking rule said no: 409 with the rule's name as the problem type
 * (`…/problems/window-full`) and in `rule`, so clients can branch on it.
 */
export class SlotRuleProblem extends ProblemError {
  readonly status = 409;
  readonly code: string;
  readonly title: string;

  constructor(
    readonly rule: keyof typeof titles,
    detail: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(detail, { rule, ...extensions });
    this.code = rule;
    this.title = titles[rule];
  }
}

/**
 * A site being built (catalog phase `construction`, Vạn Ninh) takes no bookings and has
 * no windows: 409 naming the field that chose it. The catalog knows no opening date.
 */
export function siteUnderConstructionProblem(site: Site, field: string): SlotRuleProblem {
  return new SlotRuleProblem('site-under-construction', `${site.names.en} (${site.id}) is under construction: it takes no bookings until it opens, and no opening date is known`, {
    site: site.id,
    errors: [{ field, reason: 'the site is under construction (no opening date known): it takes no bookings' }],
  });
}

/** The same Idempotency-Key was sent before for a different slot or truck: 422. */
export class IdempotencyKeyReusedProblem extends ProblemError {
  readonly status = 422;
  readonly code = 'idempotency-key-reused';
  readonly title = 'The Idempotency-Key was used for another request';
  constructor(bookingId: string) {
    super(`this Idempotency-Key already made booking ${bookingId} for another slot or truck; use a new key for a new booking`, {
      bookingId,
      errors: [{ field: '/headers/idempotency-key', reason: 'was used for another request' }],
    });
  }
}

/** A hold refusal as the problem the API answers with. */
export function holdProblem(refusal: HoldRefusal, context: { windowMs: number; windowStart: number; bookingId: string; cap: number }): ProblemError {
  switch (refusal) {
    case 'window-not-aligned': {
      const earlier = context.windowStart - (context.windowStart % context.windowMs);
      return new ValidationProblem([{ field: '/body/windowStart', reason: `must be the start of a ${context.windowMs / 60_000}-minute window (a multiple of ${context.windowMs} ms), e.g. ${earlier} or ${earlier + context.windowMs}` }]);
    }
    case 'window-past':
      return new ValidationProblem([{ field: '/body/windowStart', reason: 'the window has ended; book a window that has not' }]);
    case 'idempotency-key-reused':
      return new IdempotencyKeyReusedProblem(context.bookingId);
    case 'window-full':
      return new SlotRuleProblem(refusal, 'no place is free in this window; GET /v1/slots lists the windows with free places');
    case 'window-closed':
      return new SlotRuleProblem(refusal, 'operators closed this window: no new holds; GET /v1/slots lists open ones');
    case 'firm-cap-reached':
      return new SlotRuleProblem(refusal, `the firm already holds ${context.cap} place(s) in this window, its cap (anti-hoarding; halved while its no-show rate is over the limit: GET /v1/firms/me)`, { cap: context.cap });
    case 'plate-already-booked':
      return new SlotRuleProblem(refusal, 'this truck already has a held or confirmed booking in this window (at any site, lane group or direction)');
  }
}
