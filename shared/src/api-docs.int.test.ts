import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsContentSecurityPolicy, installSecurityHeaders, serverOptions } from './http-hardening.ts';
import { installProblemHandler } from './http.ts';
import { registerApiDocs } from './openapi.ts';

const app = Fastify({ ...serverOptions(), logger: false });

beforeAll(async () => {
  installProblemHandler(app);
  installSecurityHeaders(app);
  await registerApiDocs(app, { title: 'Docs under CSP', description: 'one route' });
  app.get('/v1/lanes', { schema: { summary: 'The lanes', response: { 200: { type: 'array', items: { type: 'string' } } } } }, async () => ['bl2-smart-ex-1']);
  await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => app.close());

describe('Swagger UI at /docs', () => {
  it('has its own policy, and renders the document under it without a single violation', async () => {
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const page = await fetch(`${base}/docs/static/index.html`);
    expect(page.headers.get('content-security-policy')).toBe(docsContentSecurityPolicy);
    expect(page.headers.get('x-frame-options')).toBe('DENY');

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    try {
      const tab = await browser.newPage();
      const violations: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error') violations.push(message.text());
      });
      await tab.goto(`${base}/docs`);
      await tab.locator('.opblock-summary-path', { hasText: '/v1/lanes' }).click({ timeout: 60_000 });
      await tab.locator('button.try-out__btn').click({ timeout: 60_000 });
      await tab.locator('button.execute').click({ timeout: 60_000 });
      await tab.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor({ timeout: 60_000 });
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
