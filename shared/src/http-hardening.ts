/**
 * What every service's HTTP server does beyond its routes: security headers on every
 * answer, and problem+json for the errors fastify raises before a route runs (a bad
 * URL, a path parameter too long, a request not received in time, an unparsable one).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { HeadersTooLargeProblem, RequestTimeoutProblem, ValidationProblem, type ProblemError } from './errors.ts';
import { problemContentType, problemOf, problemPayload, sendProblem } from './http.ts';

/** The policy of every API answer: it is data, never a document to render or frame. */
export const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

/**
 * Swagger UI at `/docs` (@fastify/swagger-ui: its own scripts, no inline script; the
 * document it loads from `/docs/json`). Its bundle injects a `<style>` element, so
 * inline styles are allowed on these pages, never inline scripts. registerApiDocs
 * passes it as the plugin's `staticCSP`, which sets it on the plugin's routes only.
 */
export const docsContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The headers of every answer; `csp` is the Content-Security-Policy. */
export function securityHeaders(csp: string = apiContentSecurityPolicy): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'content-security-policy': csp,
  };
}

/**
 * Sets the security headers on every answer of the app, errors and 404s included; a
 * header a route set itself is kept: a page sets its own CSP where it is served (the
 * wall through @fastify/static's setHeaders, Swagger UI's in openapi.ts). HSTS only on TLS.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  // Built once, not per answer: this runs on every response, each ingest batch included.
  const plain = Object.entries(securityHeaders());
  const overTls = [...plain, ['strict-transport-security', 'max-age=31536000'] as [string, string]];
  app.addHook('onSend', async (request, reply) => {
    // A header the route set on the reply or on the raw response (@fastify/static's setHeaders) stays.
    for (const [name, value] of request.protocol === 'https' ? overTls : plain) if (!reply.hasHeader(name) && !reply.raw.hasHeader(name)) void reply.header(name, value);
  });
}

export interface ServerSettings {
  /** The whole request must arrive within this (a slow or stalled client gets 408); 120 s by default. */
  requestTimeoutMs?: number;
  /** How often Node checks that timeout (its default is 30 s). */
  timeoutCheckIntervalMs?: number;
}

/**
 * A problem as a whole HTTP/1.1 response, for answers written on a socket without
 * fastify (a request Node could not read, a refused WebSocket upgrade): problem+json,
 * the security headers, `Connection: close`.
 */
export function rawProblemResponse(problem: ProblemError): string {
  const body = problemPayload(problem);
  const headers = { ...securityHeaders(), ...problem.headers(), 'content-type': problemContentType, 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `HTTP/1.1 ${problem.status} ${http.STATUS_CODES[problem.status] ?? ''}\r\n${head}\r\n${body}`;
}

export interface HardenedServerOptions extends Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'requestTimeout' | 'return503OnClosing'> {
  http: http.ServerOptions;
}

/** Node reports a request it could not read (timeout, malformed, headers too large) on the socket. */
function problemOfClientError(error: Error & { code?: string }): ProblemError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeoutProblem('the request was not received in time');
  if (error.code === 'HPE_HEADER_OVERFLOW') return new HeadersTooLargeProblem('the request headers are too large');
  return new ValidationProblem([{ field: '/', reason: 'is not a well-formed HTTP request' }]);
}

/**
 * Options for `Fastify({...serverOptions(), ...})`: problem+json and security headers
 * for what fastify answers before routing (bad URL escapes, path parameters over the
 * limit) and for what Node refuses on the socket (timeout, malformed request), and a
 * request timeout (120 s by default: a 4 MiB batch over a slow cellular link fits;
 * the headers must come within 60 s, Node's default).
 */
export function serverOptions(settings: ServerSettings = {}): HardenedServerOptions {
  const requestTimeout = settings.requestTimeoutMs ?? 120_000;
  return {
    requestTimeout,
    // installProblemHandler answers requests that arrive while closing (503 problem+json).
    return503OnClosing: false,
    // Node enforces the request timeout only when the headers' timeout is not longer.
    http: { headersTimeout: Math.min(requestTimeout, 60_000), ...(settings.timeoutCheckIntervalMs === undefined ? {} : { connectionsCheckingInterval: settings.timeoutCheckIntervalMs }) },
    frameworkErrors: (error, request, reply) => {
      void sendProblem(reply.headers(securityHeaders()), problemOf(error, request));
    },
    clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      this.log.debug({ err: error }, 'client error');
      if (socket.writable) socket.write(rawProblemResponse(problemOfClientError(error)));
      socket.destroy(error);
    },
  };
}
