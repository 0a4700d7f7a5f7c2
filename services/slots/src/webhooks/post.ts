import http from 'node:http';
import https from 'node:https';
import { publicOnlyLookup } from './url.ts';

export interface PostResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST to a receiver, bounded: the whole exchange (connect, send, status) within
 * `timeoutMs`, at most `maxResponseBytes` of the answer read (the rest is dropped with
 * the connection), the address checked by `publicOnlyLookup`, no redirect followed. It
 * never throws: a failure is a result with its error.
 */
export function postOnce(url: URL, headers: Record<string, string>, body: string, options: { timeoutMs: number; maxResponseBytes: number; allowLoopback: boolean }): Promise<PostResult> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ statusCode, error, durationMs: durationMs() });
    };
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'mongcai-tower-webhooks/1' }, lookup: publicOnlyLookup(options.allowLoopback), agent: false },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > options.maxResponseBytes) settle(response.statusCode ?? null, null);
        });
        response.on('end', () => settle(response.statusCode ?? null, null));
        response.on('error', () => settle(response.statusCode ?? null, null));
      },
    );
    const timer = setTimeout(() => settle(null, `no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => settle(null, error.code ? `${error.code}: ${error.message}` : error.message));
    request.end(body);
  });
}
