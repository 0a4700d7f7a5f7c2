import { DependencyUnavailableProblem, ForbiddenProblem, NotFoundProblem, ProblemError, RateLimitedProblem, ValidationProblem } from '@tower/shared';
import type { DeskError, SlotRule } from '../desk-errors.ts';

const titles: Record<Exclude<SlotRule, 'window-past' | 'window-not-aligned' | 'idempotency-key-reused' | 'registration-refusals-over-budget'>, string> = {
  'site-under-construction': 'The site is under construction',
  'window-full': 'The window is full',
  'window-closed': 'The window is closed',
  'firm-cap-reached': 'The firm’s cap for this window is reached',
  'plate-already-booked': 'The truck is already booked in this window',
  'plate-not-in-fleet': 'The truck is not in the firm’s fleet',
  'plate-in-another-fleet': 'The truck is in another firm’s fleet',
  'fleet-full': 'The firm’s fleet is full',
  'truck-has-bookings': 'The truck has bookings still ahead',
  'unknown-firm': 'No such firm',
  'not-held': 'The booking is not on hold',
  'hold-expired': 'The hold has expired',
  'not-cancellable': 'The booking can no longer be cancelled',
  'past-cancel-cutoff': 'The cancellation cut-off has passed',
  'not-expected': 'The booking does not expect an arrival',
  'not-arrived': 'The truck has not arrived',
};

/** Rules refused as the request's own content (422: a truck not in the firm's fleet, a firm nobody has), not as a conflict with the slot's state (409). */
const unprocessable: ReadonlySet<string> = new Set(['plate-not-in-fleet', 'unknown-firm']);

/**
 * A booking rule said no: 409 (422 for a truck not in the firm's fleet) with the rule's
 * name as the problem type (`…/problems/window-full`) and in `rule`, so clients can
 * branch on it.
 */
export class SlotRuleProblem extends ProblemError {
  readonly status: number;
  readonly code: string;
  readonly title: string;

  constructor(
    readonly rule: keyof typeof titles,
    detail: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(detail, { rule, ...extensions });
    this.status = unprocessable.has(rule) ? 422 : 409;
    this.code = rule;
    this.title = titles[rule];
  }
}

/** The same Idempotency-Key was sent before for a different slot or truck: 422. */
export class IdempotencyKeyReusedProblem extends ProblemError {
  readonly status = 422;
  readonly code = 'idempotency-key-reused';
  readonly title = 'The Idempotency-Key was used for another request';
  constructor(detail: string, bookingId: string | undefined, field: string) {
    super(detail, { bookingId, errors: [{ field, reason: 'was used for another request' }] });
  }
}

/**
 * Where a route's inputs are: the desk names a field (`site`), the problem points at it
 * (`/querystring/site`; an item of a batch `/body/items/3/site`). A single request's
 * Idempotency-Key is a header, a batch item's its `idempotencyKey`.
 */
export type InputPlace = 'body' | 'querystring' | `body/items/${number}`;

/**
 * The desk's errors as the problems the API answers with, in one place: a rule's refusal
 * 409 with the rule as its type (a misplaced or past window 400, a reused Idempotency-Key
 * 422), not found 404, a role not allowed 403, an input not valid 400, Redis or Kafka not
 * answering 503 with Retry-After.
 */
export function deskProblem(error: DeskError, place: InputPlace): ProblemError {
  const pointer = (field: string) => (field === '' ? `/${place}` : `/${place}/${field}`);
  switch (error.kind) {
    case 'refused': {
      const { field = '', ...facts } = error.facts;
      switch (error.rule) {
        case 'window-not-aligned':
        case 'window-past':
          return new ValidationProblem([{ field: pointer(field), reason: error.message }]);
        case 'registration-refusals-over-budget':
          return new RateLimitedProblem(error.message, facts.retryAfterSeconds ?? 1);
        case 'idempotency-key-reused':
          return new IdempotencyKeyReusedProblem(error.message, facts.bookingId, place.startsWith('body/items/') ? pointer(field) : '/headers/idempotency-key');
        case 'site-under-construction':
          return new SlotRuleProblem(error.rule, error.message, { site: facts.site, errors: [{ field: pointer(field), reason: 'the site is under construction (no opening date known): it takes no bookings' }] });
        case 'plate-not-in-fleet':
          return new SlotRuleProblem(error.rule, error.message, { errors: [{ field: pointer(field), reason: 'not a truck of the firm’s fleet' }] });
        case 'unknown-firm':
          return new SlotRuleProblem(error.rule, error.message, { errors: [{ field: pointer(field), reason: 'no firm by this id has a key' }] });
        case 'plate-in-another-fleet':
          return new SlotRuleProblem(error.rule, error.message, { errors: [{ field: pointer(field), reason: 'the truck is in another firm’s fleet' }] });
        default:
          return new SlotRuleProblem(error.rule, error.message, facts);
      }
    }
    case 'not-found':
      return new NotFoundProblem(error.message);
    case 'forbidden':
      return new ForbiddenProblem(error.message);
    case 'invalid':
      return new ValidationProblem(error.issues.map((issue) => ({ field: pointer(issue.field), reason: issue.reason })));
    case 'unavailable':
      return new DependencyUnavailableProblem(error.store, error.message, error.retryAfterSeconds);
  }
}
