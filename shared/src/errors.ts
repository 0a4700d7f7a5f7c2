/**
 * Typed errors. HTTP-facing ones render as RFC 9457 problem+json with a stable `type`;
 * every error says whether retrying can help, so callers back off only when it can.
 */

export interface FieldIssue {
  /** JSON pointer-ish path of the offending field, e.g. `/events/3/lane`. */
  field: string;
  reason: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

const typeBase = 'https://mongcai-tower.dev/problems/';

export abstract class ProblemError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  abstract readonly title: string;
  readonly retriable: boolean = false;
  /** Seconds, sent as Retry-After. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }

  toProblem(): ProblemBody {
    return { type: `${typeBase}${this.code}`, title: this.title, status: this.status, detail: this.detail, ...this.extensions };
  }
}

export class ValidationProblem extends ProblemError {
  readonly status = 400;
  readonly code = 'validation';
  readonly title = 'The request is not valid';
  constructor(
    readonly errors: FieldIssue[],
    detail = errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
  ) {
    super(detail, { errors });
  }
}

export class UnauthorizedProblem extends ProblemError {
  readonly status = 401;
  readonly code = 'unauthorized';
  readonly title = 'Authentication required';
}

export class ForbiddenProblem extends ProblemError {
  readonly status = 403;
  readonly code = 'forbidden';
  readonly title = 'Not allowed';
}

export class NotFoundProblem extends ProblemError {
  readonly status = 404;
  readonly code = 'not-found';
  readonly title = 'Not found';
}

export class ConflictProblem extends ProblemError {
  readonly status = 409;
  readonly code = 'conflict';
  readonly title = 'Conflict';
}

export class PayloadTooLargeProblem extends ProblemError {
  readonly status = 413;
  readonly code = 'payload-too-large';
  readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeProblem extends ProblemError {
  readonly status = 415;
  readonly code = 'unsupported-media-type';
  readonly title = 'Unsupported media type';
}

export class RateLimitedProblem extends ProblemError {
  readonly status = 429;
  readonly code = 'rate-limited';
  readonly title = 'Too many requests';
  override readonly retriable = true;
  constructor(
    detail: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(detail);
  }
}

/** A dependency (Kafka, ClickHouse, Redis) is unreachable: 503 with Retry-After. */
export class DependencyUnavailableProblem extends ProblemError {
  readonly status = 503;
  readonly code = 'dependency-unavailable';
  readonly title = 'A dependency is unavailable';
  override readonly retriable = true;
  constructor(
    readonly dependency: string,
    detail: string,
    override readonly retryAfterSeconds = 5,
  ) {
    super(detail, { dependency });
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof ProblemError ? error.retriable : false;
}
