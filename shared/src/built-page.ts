import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { ProblemError } from './errors.ts';

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
}

/**
 * A page Vite built, served at `/` (no CDN). Hashed assets are cached for good; the page
 * itself is revalidated so a new build reaches the browsers on their next reload. Not
 * built: `/` is a 503 problem naming the command that builds it.
 */
export function registerBuiltPage(app: FastifyInstance, page: BuiltPage): void {
  const policy = builtPagePolicy(page.connect);
  if (!fs.existsSync(`${page.directory}/index.html`)) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new PageNotBuiltProblem(`no ${page.directory}/index.html: run \`${page.buildCommand}\` (npm start does it)`);
    });
    return;
  }
  void app.register(fastifyStatic, {
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
}
