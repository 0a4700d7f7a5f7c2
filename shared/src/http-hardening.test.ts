import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { apiContentSecurityPolicy, installSecurityHeaders, serverOptions } from './http-hardening.ts';
import { installProblemHandler } from './http.ts';

const pagePolicy = "default-src 'self'; frame-ancestors 'none'";
const hostile = '<script>alert(1)</script>';

function buildApp(options: Parameters<typeof serverOptions>[0] = {}): FastifyInstance {
  const app = Fastify({ ...serverOptions(options), logger: false, bodyLimit: 1024, ajv: { customOptions: { removeAdditional: false } } });
  installProblemHandler(app);
  installSecurityHeaders(app);
  app.get('/', async (_request, reply) => reply.header('content-security-policy', pagePolicy).type('text/html').send('<!doctype html><title>wall</title>'));
  app.get<{ Params: { plate: string } }>('/v1/journeys/:plate', async (request) => ({ plate: request.params.plate }));
  app.post('/v1/journeys/:plate', async () => ({ ok: true }));
  app.post(
    '/v1/things',
    { schema: { body: { type: 'object', required: ['lane'], additionalProperties: false, properties: { lane: { type: 'string' } } } } },
    async () => ({ ok: true }),
  );
  app.get('/v1/bug', async () => {
    throw new Error('secret internals');
  });
  return app;
}

/** Every header of the list, on any answer. */
function expectSecurityHeaders(headers: Record<string, unknown>, csp = apiContentSecurityPolicy): void {
  expect(headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'content-security-policy': csp,
  });
  expect(headers['strict-transport-security']).toBeUndefined();
}

/** A problem+json answer with the security headers that quotes no markup (and, unless `quotes`, nothing of the hostile input). */
function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, quotes = false): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(response.body).not.toMatch(/[<>]|%3C|%3E/i);
  if (!quotes) expect(response.body).not.toContain('alert');
  expectSecurityHeaders(response.headers);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/mongcai-tower\.dev\/problems\//), title: expect.any(String), detail: expect.any(String) });
  return body;
}

describe('framework errors are problem+json and echo nothing', () => {
  const app = buildApp();

  it('answers an unknown route with 404 without the path', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: `/nowhere/${encodeURIComponent(hostile)}` }), 404);
    expect(body['type']).toBe('https://mongcai-tower.dev/problems/not-found');
  });

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/v1/journeys/14C-123.45?x=1' });
    const body = expectProblem(response, 405);
    expect(String(response.headers['allow']).split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    expect(body).toMatchObject({ type: 'https://mongcai-tower.dev/problems/method-not-allowed', detail: 'DELETE is not allowed on this path; it allows GET, HEAD, POST' });
    expectProblem(await app.inject({ method: 'PUT', url: `/v1/journeys/${encodeURIComponent(hostile)}` }), 405);
  });

  it('answers a path parameter over 100 characters with 414', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: `/v1/journeys/${'x'.repeat(101)}${encodeURIComponent(hostile)}` }), 414);
    expect(body['type']).toBe('https://mongcai-tower.dev/problems/uri-too-long');
  });

  it('answers a malformed percent-escape with 400', async () => {
    const body = expectProblem(await app.inject({ method: 'GET', url: `/v1/journeys/${encodeURIComponent(hostile)}%E0%A4%A` }), 400);
    expect(body['errors']).toEqual([{ field: '/url', reason: 'has a malformed percent-escape' }]);
  });

  it('answers a body that is not JSON, too large or of another type as problems naming the body', async () => {
    const json = { 'content-type': 'application/json' };
    const malformed = expectProblem(await app.inject({ method: 'POST', url: '/v1/things', headers: json, payload: `{"lane": ${hostile}` }), 400);
    expect(malformed['errors']).toEqual([{ field: '/body', reason: 'is not valid JSON' }]);
    const empty = expectProblem(await app.inject({ method: 'POST', url: '/v1/things', headers: json, payload: '' }), 400);
    expect(empty['errors']).toEqual([{ field: '/body', reason: 'is empty' }]);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/things', headers: json, payload: `{"lane": "${'x'.repeat(2000)}"}` }), 413);
    const media = expectProblem(await app.inject({ method: 'POST', url: '/v1/things', headers: { 'content-type': `text/${hostile}` }, payload: 'a,b' }), 415);
    expect(media['type']).toBe('https://mongcai-tower.dev/problems/unsupported-media-type');
  });

  it('escapes input that a validation error names', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/things', payload: { lane: 'bl2', [hostile]: 1 } });
    const body = expectProblem(response, 400, true);
    // The field is named, JSON-escaped: a client reads it back; no HTML parser ever sees a tag.
    expect(body['errors']).toEqual([{ field: `/body/${hostile}`, reason: 'is not allowed' }]);
  });

  it('hides internals of a 500', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/bug' });
    expectProblem(response, 500);
    expect(response.body).not.toContain('secret internals');
  });
});

describe('security headers', () => {
  const app = buildApp();

  it('are on every answer, with the API policy on the API and the page policy on the page', async () => {
    const ok = await app.inject({ method: 'GET', url: '/v1/journeys/14C-123.45' });
    expect(ok.statusCode).toBe(200);
    expectSecurityHeaders(ok.headers);
    const page = await app.inject({ method: 'GET', url: '/?token=abc' });
    expect(page.statusCode).toBe(200);
    expectSecurityHeaders(page.headers, pagePolicy);
    expectSecurityHeaders((await app.inject({ method: 'GET', url: '/v1/bug' })).headers);
  });

  it('keep a policy a route set itself', async () => {
    const own = Fastify({ logger: false });
    installSecurityHeaders(own);
    own.get('/docs', async (_request, reply) => reply.header('content-security-policy', "default-src 'self'").send('docs'));
    // @fastify/static's setHeaders sets them on the raw response.
    own.get('/raw', async (_request, reply) => {
      reply.raw.setHeader('content-security-policy', "default-src 'self'");
      return reply.send('page');
    });
    expect((await own.inject({ method: 'GET', url: '/docs' })).headers['content-security-policy']).toBe("default-src 'self'");
    expect((await own.inject({ method: 'GET', url: '/raw' })).headers['content-security-policy']).toBe("default-src 'self'");
  });
});

describe('on a real socket', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => app?.close());

  /** Writes raw bytes and reads the answer until the server closes the connection. */
  async function exchange(port: number, request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  function parseRaw(answer: string): { status: number; headers: Record<string, string>; body: string } {
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }

  it('answers a request that is not finished in time with 408 problem+json', async () => {
    app = buildApp({ requestTimeoutMs: 300, timeoutCheckIntervalMs: 50 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    const answer = parseRaw(await exchange(port, `POST /v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"lane":`));
    expectProblem({ statusCode: answer.status, headers: answer.headers, body: answer.body }, 408);
  });

  it('answers a request that arrives while the app closes with 503 problem+json', async () => {
    app = buildApp();
    let entered!: () => void;
    let release!: () => void;
    let closing!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    const closingStarted = new Promise<void>((resolve) => (closing = resolve));
    app.get('/v1/slow', async () => {
      entered();
      await held;
      return { ok: true };
    });
    app.addHook('preClose', async () => closing());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    // A second request on the same connection whose headers end once closing has begun.
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /v1/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /v1/journeys/x HTTP/1.1\r\n'));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await inHandler;
    const closed = app.close();
    await closingStarted;
    socket.write('Host: 127.0.0.1\r\n\r\n');
    release();
    await ended;
    await closed;
    app = undefined;
    const second = answer.slice(answer.indexOf('HTTP/1.1', 1));
    const parsed = parseRaw(second);
    expectProblem({ statusCode: parsed.status, headers: parsed.headers, body: parsed.body }, 503);
    expect(parsed.headers['retry-after']).toBe('1');
  });

  it('answers an unparsable request with 400 and one with headers over the limit with 431, as problem+json', async () => {
    app = buildApp();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    const answer = parseRaw(await exchange(port, `GET /v1/journeys/x HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header${hostile}: 1\r\n\r\n`));
    expectProblem({ statusCode: answer.status, headers: answer.headers, body: answer.body }, 400);
    const huge = parseRaw(await exchange(port, `GET /v1/journeys/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: ${'a'.repeat(20_000)}${hostile}\r\n\r\n`));
    expectProblem({ statusCode: huge.status, headers: huge.headers, body: huge.body }, 431);
  });
});
