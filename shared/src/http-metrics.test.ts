import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { NotFoundProblem } from './errors.ts';
import { installProblemHandler, registerOpsRoutes } from './http.ts';

/** An app as the services build theirs: problem handler, a route before the ops routes, one after. */
function buildApp() {
  const metrics = new Registry();
  const app = Fastify({ logger: false });
  installProblemHandler(app);
  app.get('/v1/bookings/:id', async (request) => {
    if ((request.params as { id: string }).id === 'gone') throw new NotFoundProblem('no such booking');
    return { ok: true };
  });
  registerOpsRoutes(app, { metrics, readiness: [] });
  app.post('/v1/bookings/:id/confirm', async (_request, reply) => reply.status(201).send({ ok: true }));
  return { app, metrics };
}

async function series(metrics: Registry): Promise<Record<string, string | number>[]> {
  const metric = metrics.getSingleMetric('tower_http_request_duration_seconds');
  expect(metric, 'the histogram is registered').toBeDefined();
  const { values } = (await metric!.get()) as { values: { metricName?: string; labels: Record<string, string | number>; value: number }[] };
  return values.filter((v) => v.metricName === 'tower_http_request_duration_seconds_count').map((v) => ({ ...v.labels, count: v.value }));
}

describe('tower_http_request_duration_seconds', () => {
  it('counts every request by route template, method and status class', async () => {
    const { app, metrics } = buildApp();
    await app.inject({ url: '/v1/bookings/b-1' });
    await app.inject({ url: '/v1/bookings/b-2' });
    await app.inject({ url: '/v1/bookings/gone' });
    await app.inject({ method: 'POST', url: '/v1/bookings/b-1/confirm' });
    await app.inject({ url: '/healthz' });
    expect(await series(metrics)).toEqual(
      expect.arrayContaining([
        { route: '/v1/bookings/:id', method: 'GET', status_class: '2xx', count: 2 },
        { route: '/v1/bookings/:id', method: 'GET', status_class: '4xx', count: 1 },
        { route: '/v1/bookings/:id/confirm', method: 'POST', status_class: '2xx', count: 1 },
        { route: '/healthz', method: 'GET', status_class: '2xx', count: 1 },
      ]),
    );
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/^# TYPE tower_http_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^tower_http_request_duration_seconds_bucket\{le="0\.005",route="\/v1\/bookings\/:id",method="GET",status_class="2xx"\} \d+$/m);
    expect(text).toMatch(/^tower_http_request_duration_seconds_bucket\{le="10",route="\/v1\/bookings\/:id",method="GET",status_class="2xx"\} 2$/m);
  });

  it('counts unknown paths and methods under fixed labels: a client cannot create label values', async () => {
    const { app, metrics } = buildApp();
    await app.inject({ url: '/v1/bookings/b-1' });
    const before = (await series(metrics)).length;
    for (let i = 0; i < 20; i++) await app.inject({ url: `/probe-${Math.random().toString(36).slice(2)}/${i}` });
    await app.inject({ method: 'DELETE', url: '/v1/bookings/b-1' });
    const after = await series(metrics);
    expect(after).toEqual(expect.arrayContaining([{ route: 'unmatched', method: 'GET', status_class: '4xx', count: 20 }]));
    // The 404s and the 405 add the two `unmatched` series, nothing per path.
    expect(after.length).toBe(before + 2);
    const labelValues = after.flatMap((s) => [s['route'], s['method'], s['status_class']]);
    expect(labelValues.some((v) => typeof v === 'string' && v.includes('probe'))).toBe(false);
  });
});
