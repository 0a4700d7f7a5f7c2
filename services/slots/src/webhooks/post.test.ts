import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postOnce } from './post.ts';
import { publicOnlyLookup } from './url.ts';

afterEach(() => vi.restoreAllMocks());

describe('a webhook POST', () => {
  it('does not follow a redirect: the 3xx is the answer, the Location is never asked', async () => {
    const asked: string[] = [];
    const server = http.createServer((request, response) => {
      asked.push(request.url ?? '');
      response.writeHead(request.url === '/hooks' ? 307 : 200, { location: '/internal-admin' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await postOnce(new URL(`http://127.0.0.1:${port}/hooks`), {}, '{}', { timeoutMs: 30_000, maxResponseBytes: 1024, allowLoopback: true });
      expect(result.statusCode).toBe(307);
      expect(asked).toEqual(['/hooks']);
    } finally {
      server.close();
    }
  });

  it('does not connect to a name whose answers include one private address among public ones', async () => {
    vi.spyOn(dns, 'lookup').mockImplementation(((_host: string, _options: unknown, callback: (error: null, addresses: dns.LookupAddress[]) => void) =>
      callback(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }, { address: '2606:4700::1111', family: 6 }])) as unknown as typeof dns.lookup);
    const outcome = await new Promise<string>((resolve) =>
      publicOnlyLookup(false)('tms.example.com', { all: true }, (error, addresses) => resolve(error ? `${(error as NodeJS.ErrnoException).code} ${error.message}` : JSON.stringify(addresses))));
    expect(outcome).toMatch(/^EWEBHOOKADDRESS .*10\.0\.0\.7/);
  });
});
