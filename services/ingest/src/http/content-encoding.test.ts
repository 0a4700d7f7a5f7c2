import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import zlib from 'node:zlib';
import { PayloadTooLargeProblem, ValidationProblem } from '@tower/shared';
import { describe, expect, it } from 'vitest';
import { gunzipAtMost } from './content-encoding.ts';

const MiB = 1024 * 1024;

/** `total` zero bytes, gzipped as a stream (never held whole). */
async function zeroBomb(total: number): Promise<Buffer> {
  const zeros = Buffer.alloc(MiB);
  const source = Readable.from((function* () {
    for (let sent = 0; sent < total; sent += MiB) yield zeros;
  })());
  const chunks: Buffer[] = [];
  for await (const chunk of source.pipe(zlib.createGzip({ level: 1 }))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A wire that counts what was read from it, in 16 KiB pieces like a socket. */
function wire(bytes: Buffer): { stream: Readable; read(): number } {
  let read = 0;
  const stream = Readable.from((function* () {
    for (let at = 0; at < bytes.length; at += 16 * 1024) {
      const piece = bytes.subarray(at, at + 16 * 1024);
      read += piece.length;
      yield piece;
    }
  })());
  return { stream, read: () => read };
}

async function failure(body: Readable): Promise<unknown> {
  return new Promise((resolve) => {
    body.on('error', resolve);
    body.resume();
    body.on('end', () => resolve(undefined));
  });
}

describe('gunzipAtMost', () => {
  it('passes a gzipped body on decoded and counts the bytes that came on the wire', async () => {
    const json = JSON.stringify([{ plate: '14C-123.45', note: 'Bắc Luân II' }]);
    const gz = zlib.gzipSync(json);
    const decoded = gunzipAtMost(wire(gz).stream, MiB);
    expect(await text(decoded)).toBe(json);
    expect(decoded.receivedEncodedLength).toBe(gz.length);
  });

  it('stops inflating a bomb at the limit (413) after reading a sliver of it', async () => {
    const bomb = await zeroBomb(1024 * MiB);
    expect(bomb.length).toBeLessThan(5 * MiB);
    const source = wire(bomb);
    const before = process.memoryUsage().arrayBuffers;
    const error = await failure(gunzipAtMost(source.stream, 4 * MiB));
    expect(error).toBeInstanceOf(PayloadTooLargeProblem);
    expect((error as PayloadTooLargeProblem).detail).toBe(`the body is over ${4 * MiB} bytes once decoded`);
    // The inflater is stopped and the wire no longer read.
    const readAtError = source.read();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(source.read()).toBe(readAtError);
    expect(readAtError).toBeLessThan(bomb.length / 10);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MiB);
  });

  it('does nothing with a body nobody reads (fastify refused it first, e.g. 415 for its Content-Type)', async () => {
    const source = wire(Buffer.from('not gzip at all'));
    const decoded = gunzipAtMost(source.stream, MiB);
    // An error raised with no reader would be an uncaught exception: the process would die.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(source.read()).toBe(0);
    expect(decoded.destroyed).toBe(false);
  });

  it('answers a body that is not gzip, or cut short, as a 400 naming the body', async () => {
    for (const bytes of [Buffer.from('[{"plate":"14C-123.45"}]'), zlib.gzipSync('[{"plate":"14C-123.45"}]').subarray(0, 15)]) {
      const error = await failure(gunzipAtMost(wire(bytes).stream, MiB));
      expect(error).toBeInstanceOf(ValidationProblem);
      expect((error as ValidationProblem).errors).toEqual([{ field: '/body', reason: 'is not valid gzip' }]);
    }
  });
});
