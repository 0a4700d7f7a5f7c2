/**
 * Typed errors. HTTP-facing ones render as RFC 9457 problem+json with a stable `type`;
 * every error says whether retrying can help, so callers back off only when it can.
 */
import { Type, type Static } from '@sinclair/typebox';

export const FieldIssue = Type.Object({
  field: Type.String({ description: 'JSON pointer of the offending field, e.g. `/events/3/lane` or `/querystring/site`' }),
  reason: Type.String(),
});
export type FieldIssue = Static<typeof FieldIssue>;

/** The schema of every error body, for the OpenAPI documents. */
export const ProblemDocument = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(Type.Array(FieldIssue)),
  },
  { additionalProperties: true, title: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' },
);

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

  /** Headers the answer carries besides its body (Retry-After, Allow). */
  headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) };
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

/** A problem that is fully described by its status, code and title. */
function plainProblem(status: number, code: string, title: string) {
  return class extends ProblemError {
    readonly status = status;
    readonly code = code;
    readonly title = title;
  };
}

export class UnauthorizedProblem extends plainProblem(401, 'unauthorized', 'Authentication required') {}
export class ForbiddenProblem extends plainProblem(403, 'forbidden', 'Not allowed') {}
export class NotFoundProblem extends plainProblem(404, 'not-found', 'Not found') {}
export class ConflictProblem extends plainProblem(409, 'conflict', 'Conflict') {}
export class RequestTimeoutProblem extends plainProblem(408, 'request-timeout', 'Request timeout') {}
export class PayloadTooLargeProblem extends plainProblem(413, 'payload-too-large', 'Payload too large') {}
export class UriTooLongProblem extends plainProblem(414, 'uri-too-long', 'URI too long') {}
export class UnsupportedMediaTypeProblem extends plainProblem(415, 'unsupported-media-type', 'Unsupported media type') {}
export class HeadersTooLargeProblem extends plainProblem(431, 'headers-too-large', 'Request header fields too large') {}
/** Opaque on purpose: what went wrong is logged, never sent. */
export class InternalProblem extends plainProblem(500, 'internal', 'Internal error') {}

/** The path exists, not with this method: 405 with `Allow` listing the methods it has. */
export class MethodNotAllowedProblem extends ProblemError {
  readonly status = 405;
  readonly code = 'method-not-allowed';
  readonly title = 'Method not allowed';
  constructor(
    readonly allowed: readonly string[],
    method: string,
  ) {
    super(`${method} is not allowed on this path; it allows ${allowed.join(', ')}`);
  }

  override headers(): Record<string, string> {
    return { ...super.headers(), allow: this.allowed.join(', ') };
  }
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

/** The instance is shutting down: another instance (or this one, restarted) will answer. */
export class ShuttingDownProblem extends ProblemError {
  readonly status = 503;
  readonly code = 'shutting-down';
  readonly title = 'Shutting down';
  override readonly retriable = true;
  override readonly retryAfterSeconds = 1;
}

export function isRetriable(error: unknown): boolean {
  return error instanceof ProblemError ? error.retriable : false;
}

/**
 * What a consumer does with a failure: `transient` (a dependency away, overloaded or
 * slow: retry the same work with backoff, as long as it takes), `permanent` (the data
 * itself is refused: retrying cannot help, dead-letter it with the reason at once),
 * `unknown` (neither is known: retry a bounded number of times, then treat as permanent).
 */
export type ErrorClass = 'transient' | 'permanent' | 'unknown';

/**
 * ClickHouse's codes for data it refuses: CANNOT_PARSE_TEXT, CANNOT_PARSE_ESCAPE_SEQUENCE,
 * CANNOT_PARSE_QUOTED_STRING, CANNOT_PARSE_INPUT_ASSERTION_FAILED, CANNOT_PARSE_DATE,
 * CANNOT_PARSE_DATETIME, TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE,
 * CANNOT_PARSE_NUMBER, INCORRECT_DATA, TOO_LARGE_ARRAY_SIZE, TOO_LARGE_STRING_SIZE,
 * VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, CANNOT_PARSE_UUID.
 */
const refusedDataCodes = new Set(['6', '25', '26', '27', '38', '41', '53', '69', '70', '72', '117', '128', '131', '321', '376']);
/**
 * ClickHouse's codes for a server that is busy, short of something or away for a while:
 * TIMEOUT_EXCEEDED, TOO_SLOW, READONLY, TOO_MANY_SIMULTANEOUS_QUERIES, NO_FREE_CONNECTION,
 * SOCKET_TIMEOUT, NETWORK_ERROR, ABORTED, MEMORY_LIMIT_EXCEEDED, TABLE_IS_READ_ONLY,
 * NOT_ENOUGH_SPACE, TOO_MANY_PARTS, QUERY_WAS_CANCELLED, CANNOT_WRITE_TO_FILE_DESCRIPTOR (the
 * server's own file write failed: a full disk on 18.16, an I/O error), and the refused logins
 * (UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED, ACCESS_DENIED):
 * an operator fixes those, and nothing is lost while the consumer waits.
 */
const unavailableCodes = new Set(['75', '159', '160', '164', '202', '203', '209', '210', '236', '241', '242', '243', '252', '394', '192', '193', '194', '516', '497']);
/**
 * A full disk or quota, whatever code carries it: ClickHouse 18.16 has no NOT_ENOUGH_SPACE
 * for an insert, it fails writing the part (`Code: 75 … errno: 28, strerror: No space left
 * on device`; current servers say 243 first), and Node's own writes say ENOSPC. An
 * operator frees space; nothing is lost while the consumer waits.
 */
const diskFull = /\b(ENOSPC|EDQUOT|No space left on device|Disk quota exceeded)\b/i;
/** Node's socket errors: the peer is away or the connection broke. */
const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** The ClickHouse error code of an error: the client parses current servers' errors; 18.16's only say it in the message. */
export function clickHouseErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return code;
  return /\bCode: (\d+)/.exec(error.message)?.[1];
}

/**
 * Classifies a failure of a consumer's handler (see `ErrorClass`): typed problems by
 * `isRetriable` (a 4xx problem is the data's fault), an error marked `retriable` (Kafka's,
 * the aggregator's RepairFailed) as transient, socket errors and a full disk as transient,
 * ClickHouse's by code; anything else unknown.
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof ProblemError) return isRetriable(error) ? 'transient' : error.status < 500 ? 'permanent' : 'unknown';
  if (!(error instanceof Error)) return 'unknown';
  // Said first: an error that wraps another (the aggregator's RepairFailed) quotes its ClickHouse code in its message.
  if ((error as { retriable?: unknown }).retriable === true) return 'transient';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && networkErrorCodes.has(code)) return 'transient';
  if (/\b(socket hang up|ECONNREFUSED|ECONNRESET|Timeout error)\b/i.test(error.message)) return 'transient';
  const clickHouseCode = clickHouseErrorCode(error);
  // After the refused data: a parse error quotes the data, which may say anything.
  if (clickHouseCode !== undefined && refusedDataCodes.has(clickHouseCode)) return 'permanent';
  if (diskFull.test(error.message)) return 'transient';
  if (clickHouseCode !== undefined) return unavailableCodes.has(clickHouseCode) ? 'transient' : 'unknown';
  return 'unknown';
}
