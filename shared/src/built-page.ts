import fs from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ProblemError, RateLimitedProblem } from './errors.ts';
import { RateLimiter } from './rate-limit.ts';

/**
 * The Content-Security-Policy of a page Vite built (the wall, the booking page): its own
 * scripts, styles, fonts, requests and sockets only (the builds have no inline script or
 * style attribute; connect-src 'self' covers a same-origin WebSocket), and no page may
 * frame it. `connect` adds origins it may also reach (the booking page's live gateway).
 */
export function builtPagePolicy(connect: readonly string[] = []): string {
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${["'self'", ...connect].join(' ')}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
}

/** The policy of a built page that reaches nothing but its own origin (the wall). */
export const builtPageContentSecurityPolicy = builtPagePolicy();

class PageNotBuiltProblem extends ProblemError {
  readonly status = 503;
  readonly code = 'page-not-built';
  readonly title = 'The page is not built';
}

export interface BuiltPage {
  /** Vite's output directory (index.html and assets/). */
  directory: string;
  /** What builds it, said in the 503 while it is not built. */
  buildCommand: string;
  /** Origins besides its own it may fetch from or open a socket to. */
  connect?: readonly string[];
  /** Requests per second and burst per client address (default `pageRequestBudget`). */
  budget?: { perSecond: number; burst: number };
}

/**
 * What one client address may ask of a page's public files (no key: the page is what
 * signs in): a page load is a handful of requests, and a firm's office behind one
 * address loads it many times over; a loop asking for it is refused before it costs the
 * disk and the event loop everyone else's page.
 */
export const pageRequestBudget = { perSecond: 50, burst: 200 } as const;

/** An onRequest hook: a 429 problem with Retry-After once the caller's address is over its budget. */
export type PerAddressBudget = (request: FastifyRequest) => Promise<void>;

function perAddressBudget(budget: { perSecond: number; burst: number }): PerAddressBudget {
  const limiter = new RateLimiter(budget.perSecond, budget.burst);
  return async (request) => {
    const allowance = limiter.take(request.ip, 1);
    if (!allowance.allowed) throw new RateLimitedProblem(`this address is over its rate of page requests; retry in ${allowance.retryAfterSeconds} s`, allowance.retryAfterSeconds);
  };
}

/**
 * A page Vite built, served at `/` (no CDN). Hashed assets are cached for good; the page
 * itself is revalidated so a new build reaches the browsers on their next reload. Not
 * built: `/` is a 503 problem naming the command that builds it. Every file counts
 * against a budget per client address; the hook is returned for the page's other public
 * routes (its settings) to share it.
 */
export function registerBuiltPage(app: FastifyInstance, page: BuiltPage): PerAddressBudget {
  const policy = builtPagePolicy(page.connect);
  const onRequest = perAddressBudget(page.budget ?? pageRequestBudget);
  if (!fs.existsSync(`${page.directory}/index.html`)) {
    app.get('/', { schema: { hide: true }, onRequest }, async () => {
      throw new PageNotBuiltProblem(`no ${page.directory}/index.html: run \`${page.buildCommand}\` (npm start does it)`);
    });
    return onRequest;
  }
  void app.register(async (files) => {
    files.addHook('onRequest', onRequest);
    await files.register(fastifyStatic, {
      root: page.directory,
      wildcard: false,
      index: 'index.html',
      // Its own Cache-Control (public, max-age=0) would replace the one setHeaders sets: the assets were never cached for good.
      cacheControl: false,
      setHeaders: (response, file) => {
        response.setHeader('cache-control', file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
        response.setHeader('content-security-policy', policy);
      },
    });
  });
  return onRequest;
}
