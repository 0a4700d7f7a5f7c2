import { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { DependencyUnavailableProblem, ProblemError, type FieldIssue, type ProblemBody } from './errors.ts';

export const problemContentType = 'application/problem+json; charset=utf-8';

const titles: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
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

/**
 * Every error leaves as problem+json: typed ProblemErrors as they are, fastify's own
 * 4xx (validation, content type, size) with the field and reason, and anything else
 * as an opaque 500 that is logged with its stack.
 */
export function installProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
    let body: ProblemBody;
    if (error instanceof ProblemError) {
      body = error.toProblem();
      if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
      if (error.status >= 500) request.log.warn({ err: error }, error.detail);
    } else if (error.validation) {
      const errors = fieldIssuesOf(error.validation as AjvIssue[], error.validationContext);
      body = {
        type: 'https://mongcai-tower.dev/problems/validation',
        title: 'The request is not valid',
        status: 400,
        detail: errors.map((e) => `${e.field}: ${e.reason}`).join('; '),
        errors,
      };
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      body = {
        type: `https://mongcai-tower.dev/problems/http-${error.statusCode}`,
        title: titles[error.statusCode] ?? 'Bad request',
        status: error.statusCode,
        detail: error.message,
      };
    } else {
      request.log.error({ err: error }, 'unhandled error');
      body = { type: 'https://mongcai-tower.dev/problems/internal', title: 'Internal error', status: 500, detail: 'an unexpected error occurred; it has been logged' };
    }
    return reply.status(body.status).type(problemContentType).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .type(problemContentType)
      .send({ type: 'https://mongcai-tower.dev/problems/not-found', title: 'Not found', status: 404, detail: `no route ${request.method} ${request.url}` }),
  );
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
 * problem+json naming the ones that do not) and `/metrics` (Prometheus text).
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  options: { metrics: Registry; readiness: ReadinessCheck[]; checkTimeoutMs?: number },
): void {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
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
