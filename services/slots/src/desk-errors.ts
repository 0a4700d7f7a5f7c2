/**
 * How the slot desk says no, in the slots domain's words: a rule's refusal, a booking
 * not found, a role not allowed, an input not valid, the slot store or Kafka not
 * answering. The HTTP layer maps them to problem+json once (http/problems.ts); the
 * check-in consumer and the sweeper see only these, never an HTTP class.
 */
import type { AccessRole } from '@tower/shared';
import type { Booking, BookingRefusal } from './domain/bookings.ts';
import type { FleetRefusal } from './domain/fleet.ts';
import type { HoldRefusal } from './domain/ledger.ts';

/** Every rule the desk refuses by: the ledger's, a booking transition's, a fleet's, a site still being built. A truck not in the fleet asked of is not found. */
export type SlotRule = HoldRefusal | BookingRefusal | Exclude<FleetRefusal, 'truck-not-in-fleet'> | 'unknown-firm' | 'registration-refusals-over-budget' | 'site-under-construction';

/** One input that is not valid: `field` names it as the caller gave it (`site`, `windowStart`; '' for the input as a whole). */
export interface InputIssue {
  field: string;
  reason: string;
}

/** What a refusal knows besides its rule, for the caller to act on. */
export interface RefusalFacts {
  /** The input that chose what was refused (`windowStart`, `site`). */
  field?: string;
  /** The booking as it is now (transition refusals). */
  booking?: Booking;
  /** The firm's cap per window (firm-cap-reached). */
  cap?: number;
  /** The site refused (site-under-construction). */
  site?: string;
  /** The booking the idempotency key made before (idempotency-key-reused). */
  bookingId?: string;
  /** Most trucks a fleet holds (fleet-full). */
  limit?: number;
  /** When to try again (registration-refusals-over-budget). */
  retryAfterSeconds?: number;
  /** How many held or confirmed bookings stop a truck's transfer (truck-has-bookings). */
  bookings?: number;
}

abstract class DeskErrorBase extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = new.target.name;
  }
}

/** A booking rule said no. */
export class RuleRefusal extends DeskErrorBase {
  readonly kind = 'refused';
  constructor(
    readonly rule: SlotRule,
    detail: string,
    readonly facts: RefusalFacts = {},
  ) {
    super(detail);
  }
}

/** No such booking, or not one this caller may see (a firm never learns of another firm's). */
export class BookingNotFound extends DeskErrorBase {
  readonly kind = 'not-found';
}

/** No such truck in the caller's fleet (another firm's truck is as unknown as none), or, for an operator, in any fleet. */
export class TruckNotFound extends DeskErrorBase {
  readonly kind = 'not-found';
}

/** The caller's role may not do this (a display token booking, a firm reading another firm). */
export class ForbiddenForRole extends DeskErrorBase {
  readonly kind = 'forbidden';
  constructor(
    readonly role: AccessRole,
    detail: string,
  ) {
    super(detail);
  }
}

/** Inputs the desk cannot act on (a range too long, a lane group the site lacks). */
export class InvalidInput extends DeskErrorBase {
  readonly kind = 'invalid';
  constructor(readonly issues: InputIssue[]) {
    super(issues.map((issue) => `${issue.field}: ${issue.reason}`).join('; '));
  }
}

/**
 * The slot store (Redis) or Kafka did not answer: nothing was half made, a retry may
 * succeed. `retriable` is what the consumer runner's classification reads (transient).
 */
export class StoreUnavailable extends DeskErrorBase {
  readonly kind = 'unavailable';
  readonly retriable = true;
  constructor(
    readonly store: 'redis' | 'kafka',
    detail: string,
    /** How long a caller should wait before retrying. */
    readonly retryAfterSeconds: number,
  ) {
    super(detail);
  }
}

export type DeskError = RuleRefusal | BookingNotFound | TruckNotFound | ForbiddenForRole | InvalidInput | StoreUnavailable;

export function isDeskError(error: unknown): error is DeskError {
  return error instanceof DeskErrorBase;
}
