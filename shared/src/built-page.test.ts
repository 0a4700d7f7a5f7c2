import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBuiltPage } from './built-page.ts';
import { installProblemHandler } from './http.ts';
import { RateLimiter } from './rate-limit.ts';

/** A page as Vite builds one: index.html and a hashed asset. */
let directory: string;
beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'built-page-'));
  fs.mkdirSync(path.join(directory, 'assets'));
  fs.writeFileSync(path.join(directory, 'index.html'), '<!doctype html><title>page</title><script type="module" src="/assets/index-abc.js"></script>');
  fs.writeFileSync(path.join(directory, 'assets', 'index-abc.js'), 'console.log(1)');
  fs.writeFileSync(path.join(directory, '..', 'built-page-secret.txt'), 'not to be served');
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

async function pageApp(budget = { perSecond: 50, burst: 200 }) {
  const app = Fastify();
  installProblemHandler(app);
  const perAddress = registerBuiltPage(app, { directory, buildCommand: 'npm run build:page', budget });
  app.get('/page.json', { onRequest: perAddress }, async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('a built page', () => {
  it('serves its files with their types, CSP on the page, and nothing outside its directory; a miss is a problem', async () => {
    const app = await pageApp();
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    const asset = await app.inject({ url: '/assets/index-abc.js' });
    expect(asset.headers['content-type']).toMatch(/^(application|text)\/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    for (const url of ['/../built-page-secret.txt', '/%2e%2e/built-page-secret.txt', '/assets/..%2f..%2fbuilt-page-secret.txt', '/..%5cbuilt-page-secret.txt', '/assets/missing.js']) {
      const answer = await app.inject({ url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(answer.body, url).not.toContain('not to be served');
    }
    await app.close();
  });

  it('has a budget per client address: one address asking in a loop is refused with 429, another is still served', async () => {
    const app = await pageApp({ perSecond: 1, burst: 10 });
    const from = (remoteAddress: string, url: string) => app.inject({ url, remoteAddress });
    const flood = await Promise.all(Array.from({ length: 50 }, (_, i) => from('203.0.113.7', i % 2 ? '/' : '/page.json')));
    const refused = flood.filter((answer) => answer.statusCode === 429);
    expect(refused.length).toBeGreaterThanOrEqual(30);
    expect(refused[0]!.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await from('198.51.100.9', '/')).statusCode).toBe(200);
    expect((await from('198.51.100.9', '/page.json')).statusCode).toBe(200);
    await app.close();
  });
});

describe('a rate limiter', () => {
  it('forgets callers whose bucket is full again, so many addresses do not grow it without end', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 20, () => now, 100);
    for (let i = 0; i < 1000; i += 1) {
      expect(limiter.take(`caller-${i}`, 1).allowed).toBe(true);
      now += 1000;
    }
    expect(limiter.callers()).toBeLessThanOrEqual(101);
    // A caller still refilling is kept: forgetting it would hand it a full bucket.
    for (let i = 0; i < 25; i += 1) limiter.take('busy', 1);
    for (let i = 0; i < 200; i += 1) limiter.take(`other-${i}`, 1);
    expect(limiter.take('busy', 1).allowed).toBe(false);
  });
});
