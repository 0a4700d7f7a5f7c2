import { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  DependencyUnavailableProblem,
  InternalProblem,
  MethodNotAllowedProblem,
  NotFoundProblem,
  PayloadTooLargeProblem,
  ProblemError,
  ShuttingDownProblem,
  UnsupportedMediaTypeProblem,
  UriTooLongProblem,
  ValidationProblem,
  type FieldIssue,
} from './errors.ts';
import { installHttpMetrics } from './http-metrics.ts';

export const problemContentType = 'application/problem+json; charset=utf-8';

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
};

interface AjvIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Fastify/ajv validation errors as `{field, reason}` with the field named in full. */
export function fieldIssuesOf(validation: AjvIssue[], context: string | undefined): FieldIssue[] {
  return validation.map((issue) => {
    const missing = typeof issue.params?.['missingProperty'] === 'string' ? `/${issue.params['missingProperty']}` : '';
    const extra = typeof issue.params?.['additionalProperty'] === 'string' ? `/${issue.params['additionalProperty']}` : '';
    const allowed = Array.isArray(issue.params?.['allowedValues']) ? `: ${(issue.params['allowedValues'] as unknown[]).join(', ')}` : '';
    return {
      field: `/${context ?? 'body'}${issue.instancePath ?? ''}${missing}${extra}`,
      reason: `${extra ? 'is not allowed' : (issue.message ?? 'is invalid')}${allowed}`,
    };
  });
}

/** Any other 4xx a plugin raises: its status and title, never its message (which may quote the request). */
class HttpStatusProblem extends ProblemError {
  readonly code: string;
  readonly title: string;
  constructor(readonly status: number) {
    const title = titles[status] ?? 'Bad request';
    super(`${title.toLowerCase()}`);
    this.code = `http-${status}`;
    this.title = title;
  }
}

/**
 * What an error thrown while serving a request means to the client, as a typed problem.
 * Fastify's own errors get a fixed detail: their messages quote the URL, the Content-Type
 * or the body, which a problem must not echo.
 */
export function problemOf(error: FastifyError | ProblemError | Error, request: FastifyRequest): ProblemError {
  if (error instanceof ProblemError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return new ValidationProblem(fieldIssuesOf(fastifyError.validation as AjvIssue[], fastifyError.validationContext));
  const body = (reason: string) => new ValidationProblem([{ field: '/body', reason }]);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeProblem(`the body is over ${request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeProblem('this route does not accept a body of this Content-Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return body('is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return body('is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationProblem([{ field: '/headers/content-length', reason: 'does not match the length of the body' }]);
    case 'FST_ERR_BAD_URL':
      return new ValidationProblem([{ field: '/url', reason: 'has a malformed percent-escape' }]);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new UriTooLongProblem(`a path parameter is longer than ${request.server.initialConfig.maxParamLength ?? 100} characters`);
  }
  // The JSON parser's SyntaxError, marked 400 by fastify.
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return body('is not valid JSON');
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new HttpStatusProblem(status);
  return new InternalProblem('an unexpected error occurred; it has been logged');
}

/** `<`, `>` and `&` as JSON escapes: a problem body never carries markup, whatever it quotes. */
export function problemPayload(problem: ProblemError): string {
  return JSON.stringify(problem.toProblem()).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Sends a problem with its headers (Retry-After, Allow) as problem+json. */
export function sendProblem(reply: FastifyReply, problem: ProblemError): FastifyReply {
  return reply.status(problem.status).headers(problem.headers()).type(problemContentType).send(problemPayload(problem));
}

/** The methods a path has routes for, in the order they were registered ([] for an unknown path). */
function allowedMethods(app: FastifyInstance, methods: ReadonlySet<string>, url: string): string[] {
  const path = url.split('?', 1)[0] ?? url;
  return [...methods].filter((method) => app.findRoute({ method, url: path }) !== null);
}

/**
 * Every error leaves as problem+json: typed ProblemErrors as they are, fastify's own
 * 4xx (validation, body, content type, size) with a fixed detail naming the field, an
 * unknown path as 404, a known path with another method as 405 with `Allow`, and
 * anything else as an opaque 500 that is logged with its stack. Install it before the
 * routes (it learns their methods). A request arriving while the app closes is a 503
 * with Retry-After. Errors raised before routing (bad URL, path parameter too long,
 * timeouts) are in `serverOptions()` (http-hardening.ts).
 */
export function installProblemHandler(app: FastifyInstance): void {
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
  });
  app.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
    const problem = problemOf(error, request);
    if (problem instanceof InternalProblem) request.log.error({ err: error }, 'unhandled error');
    else if (problem.status >= 500) request.log.warn({ err: error }, problem.detail);
    return sendProblem(reply, problem);
  });
  // While closing (serverOptions() turns fastify's plain-JSON 503 off), a request that
  // still arrives on an open connection is refused as a problem.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ShuttingDownProblem('this instance is shutting down; retry');
  });
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(app, methods, request.url);
    return sendProblem(reply, allowed.length > 0 ? new MethodNotAllowedProblem(allowed, request.method) : new NotFoundProblem(`no route matches ${request.method} on this path`));
  });
}

/** A metrics registry per service instance (never one created at module load). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface ReadinessCheck {
  /** The dependency, as named in responses: `kafka`, `clickhouse`, `redis`. */
  name: string;
  /** Resolves when ready, throws why not. */
  check(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return 'ok';
  } catch (error) {
    return (error as Error).message || 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz` (the process is alive), `/readyz` (every dependency answers: 200, or 503
 * problem+json naming the ones that do not) and `/metrics` (Prometheus text), and the
 * request-duration histogram of every route in that registry (http-metrics.ts).
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  options: { metrics: Registry; readiness: ReadinessCheck[]; checkTimeoutMs?: number },
): void {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  installHttpMetrics(app, options.metrics);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    const results = await Promise.all(options.readiness.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
    const checks = Object.fromEntries(results);
    const failing = results.filter(([, r]) => r !== 'ok');
    if (failing.length > 0) {
      throw new DependencyUnavailableProblem(
        failing.map(([n]) => n).join(','),
        `not ready: ${failing.map(([n, r]) => `${n} (${r})`).join(', ')}`,
        5,
      );
    }
    return { status: 'ready', checks };
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(options.metrics.contentType).send(await options.metrics.metrics()),
  );
}

/**
 * Fastify's per-request log lines off: services log what matters themselves (metrics
 * count requests), and a wall display polling every second would flood the log.
 */
export function withoutRequestLogs(): LogController {
  return new LogController({ disableRequestLogging: true });
}
