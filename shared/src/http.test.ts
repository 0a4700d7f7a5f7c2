import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableProblem, NotFoundProblem } from './errors.ts';
import { createMetricsRegistry, installProblemHandler, registerOpsRoutes } from './http.ts';

function buildApp(readiness: { name: string; check(): Promise<void> }[] = []) {
  const app = Fastify({ logger: false });
  installProblemHandler(app);
  registerOpsRoutes(app, { metrics: createMetricsRegistry('test'), readiness, checkTimeoutMs: 100 });
  app.post(
    '/v1/things',
    { schema: { body: { type: 'object', required: ['lane'], additionalProperties: false, properties: { lane: { type: 'string', minLength: 3 }, kind: { enum: ['truck', 'container'] } } } } },
    async () => ({ ok: true }),
  );
  app.get('/v1/missing', async () => {
    throw new NotFoundProblem('no truck with plate 14C-12345');
  });
  app.get('/v1/kafka-down', async () => {
    throw new DependencyUnavailableProblem('kafka', 'Kafka is unreachable', 7);
  });
  app.get('/v1/bug', async () => {
    throw new Error('secret internals');
  });
  return app;
}

describe('problem+json', () => {
  it('names the field and the reason of a validation failure', async () => {
    const response = await buildApp().inject({ method: 'POST', url: '/v1/things', payload: { kind: 'bicycle', extra: 1 } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const body = response.json();
    expect(body.status).toBe(400);
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: '/body/lane', reason: expect.stringContaining('required') })]));
  });

  it('renders typed errors with their status and Retry-After', async () => {
    const app = buildApp();
    const missing = await app.inject({ method: 'GET', url: '/v1/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ type: 'https://mongcai-tower.dev/problems/not-found', detail: 'no truck with plate 14C-12345' });
    const down = await app.inject({ method: 'GET', url: '/v1/kafka-down' });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('7');
    expect(down.json()).toMatchObject({ dependency: 'kafka' });
  });

  it('hides internals of unexpected errors and answers 415 and 404 as problems', async () => {
    const app = buildApp();
    const bug = await app.inject({ method: 'GET', url: '/v1/bug' });
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toContain('secret internals');
    const media = await app.inject({ method: 'POST', url: '/v1/things', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(media.statusCode).toBe(415);
    expect(media.headers['content-type']).toContain('application/problem+json');
    const route = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(route.statusCode).toBe(404);
    expect(route.json().detail).toBe('no route matches GET on this path');
  });
});

describe('ops routes', () => {
  it('reports readiness per dependency', async () => {
    const app = buildApp([
      { name: 'kafka', check: async () => undefined },
      { name: 'redis', check: async () => { throw new Error('connection refused'); } },
      { name: 'clickhouse', check: () => new Promise(() => undefined) },
    ]);
    const notReady = await app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().detail).toBe('not ready: redis (connection refused), clickhouse (no answer within 100 ms)');
    // Alive all the same: liveness never depends on other servers.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('is ready when every check passes and serves Prometheus metrics', async () => {
    const app = buildApp([{ name: 'kafka', check: async () => undefined }]);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { kafka: 'ok' } });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('process_cpu_user_seconds_total{service="test"}');
  });
});

describe('typed problems', () => {
  it('carry their own status, code and class name', async () => {
    const { ForbiddenProblem, PayloadTooLargeProblem } = await import('./errors.ts');
    const forbidden = new ForbiddenProblem('device BL2-CAM-07 belongs to Vạn Ninh');
    expect(forbidden).toBeInstanceOf(ForbiddenProblem);
    expect(forbidden.name).toBe('ForbiddenProblem');
    expect(forbidden.toProblem()).toEqual({ type: 'https://mongcai-tower.dev/problems/forbidden', title: 'Not allowed', status: 403, detail: 'device BL2-CAM-07 belongs to Vạn Ninh' });
    expect(new PayloadTooLargeProblem('x').status).toBe(413);
  });
});
