import { Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PayloadTooLargeProblem, UnsupportedMediaTypeProblem, ValidationProblem } from '@tower/shared';

/** Content codings a device may send its batch in (RFC 9110 §8.4.1; x-gzip is gzip). */
export const contentEncodings = ['gzip', 'x-gzip', 'identity'] as const;

/** 415 for a coding the API does not decode, with Accept-Encoding naming those it does (RFC 9110 §12.5.3). */
export class UnsupportedEncodingProblem extends UnsupportedMediaTypeProblem {
  constructor() {
    super(`Content-Encoding must be gzip or identity (none)`);
  }

  override headers(): Record<string, string> {
    return { ...super.headers(), 'accept-encoding': 'gzip, identity' };
  }
}

/**
 * Passes the decoded bytes on and fails with 413 as soon as they go past the limit, so a
 * gzip bomb is never inflated whole. `receivedEncodedLength` is what arrived on the wire,
 * which fastify compares with Content-Length.
 */
class DecodedBody extends Transform {
  private decodedLength = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly inflater: zlib.Gunzip,
  ) {
    super();
  }

  get receivedEncodedLength(): number {
    return this.inflater.bytesWritten;
  }

  /** Runs once, when the body is first read. */
  onFirstRead: (() => void) | undefined;

  override _read(size: number): void {
    const start = this.onFirstRead;
    this.onFirstRead = undefined;
    start?.();
    super._read(size);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.decodedLength += chunk.length;
    if (this.decodedLength > this.limitBytes) callback(new PayloadTooLargeProblem(`the body is over ${this.limitBytes} bytes once decoded`));
    else callback(null, chunk);
  }
}

/**
 * Inflates a gzip stream into at most `limitBytes`: past the limit the inflater is
 * stopped and the wire no longer read (413); a stream that is not gzip is a 400 naming
 * the body. The wire stream is only unpiped, never destroyed, so the answer can still
 * be sent on its socket (Node discards the rest of the upload).
 */
export function gunzipAtMost(wire: Readable, limitBytes: number): DecodedBody {
  const inflater = zlib.createGunzip();
  const decoded = new DecodedBody(limitBytes, inflater);
  // Nothing is read or inflated until the body is read: fastify may refuse the request
  // first (a Content-Type it does not accept), and then no one would hear an error.
  decoded.onFirstRead = () => {
    inflater.on('error', () => decoded.destroy(new ValidationProblem([{ field: '/body', reason: 'is not valid gzip' }])));
    wire.on('error', (error) => decoded.destroy(error));
    decoded.on('close', () => {
      wire.unpipe(inflater);
      inflater.destroy();
    });
    wire.pipe(inflater).pipe(decoded);
  };
  return decoded;
}

/**
 * preParsing hook: a body sent with `Content-Encoding: gzip` is inflated under the
 * route's body limit, which then applies to the decoded bytes; no or `identity` coding
 * passes the body as it is; any other coding is a 415.
 */
export async function decodeContentEncoding(request: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> {
  const coding = (request.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return payload;
  if (coding !== 'gzip' && coding !== 'x-gzip') throw new UnsupportedEncodingProblem();
  return gunzipAtMost(payload, request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 1024 * 1024);
}
