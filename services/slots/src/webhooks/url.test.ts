import { describe, expect, it } from 'vitest';
import { checkEndpointUrl, isPublicAddress, publicOnlyLookup } from './url.ts';

const reasonOf = (url: string, allowLoopbackHttp = false) => {
  const verdict = checkEndpointUrl(url, allowLoopbackHttp);
  return verdict.ok ? 'ok' : verdict.reason;
};

describe('webhook URLs', () => {
  it('are https to a public host', () => {
    expect(reasonOf('https://tms.example.com/hooks?x=1')).toBe('ok');
    expect(reasonOf('https://93.184.216.34:8443/hooks')).toBe('ok');
    expect(reasonOf('https://[2606:4700::1111]/hooks')).toBe('ok');
    expect(reasonOf('http://tms.example.com/hooks')).toBe('must be https');
    expect(reasonOf('ftp://tms.example.com/hooks')).toBe('must be https');
    expect(reasonOf('tms.example.com/hooks')).toBe('is not an absolute URL');
    expect(reasonOf('https://user:pass@tms.example.com/')).toMatch(/user name or password/);
  });

  it('never to a private, loopback, link-local or reserved address, however written', () => {
    for (const host of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.1.2.3', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '[::1]', '[::]', '[fe80::1]', '[fd00::1]', '[::ffff:10.0.0.1]', '[::ffff:7f00:1]']) {
      expect(reasonOf(`https://${host}/hooks`), host).toMatch(/not a public address/);
    }
    // WHATWG URL parsing turns these spellings into 127.0.0.1 / 10.0.0.1 before the check.
    for (const host of ['2130706433', '0x7f.0.0.1', '0177.0.0.1', '10.1']) expect(reasonOf(`https://${host}/`), host).toMatch(/not a public address/);
    for (const host of ['localhost', 'api.localhost', 'printer.local', 'db.internal', 'intranet', 'router.home.arpa']) expect(reasonOf(`https://${host}/`), host).toMatch(/not a public host name/);
  });

  it('with the loopback setting: http://127.0.0.1 and http://[::1] too, and nothing else private', () => {
    expect(reasonOf('http://127.0.0.1:27510/hooks', true)).toBe('ok');
    expect(reasonOf('http://[::1]:27510/hooks', true)).toBe('ok');
    expect(reasonOf('http://127.0.0.1:27510/hooks')).toBe('must be https');
    expect(reasonOf('http://10.0.0.1/hooks', true)).toMatch(/http only to 127\.0\.0\.1/);
    expect(reasonOf('http://localhost:27510/hooks', true)).toMatch(/must be https/);
  });

  it('never to an IPv6 address outside global unicast: IPv4-compatible, IPv4-translated, site-local', () => {
    // ::127.0.0.1 (IPv4-compatible), ::ffff:0:127.0.0.1 (SIIT), fec0::/10 and 3fff::/20: none a public unicast address.
    for (const host of ['[::7f00:1]', '[::a00:1]', '[::ffff:0:7f00:1]', '[::ffff:0:a9fe:a9fe]', '[fec0::1]', '[3fff::1]', '[64:ff9b::7f00:1]', '[0:0:0:0:0:ffff:127.0.0.1]']) {
      expect(reasonOf(`https://${host}/hooks`), host).toMatch(/not a public address/);
    }
    for (const address of ['::7f00:1', '::127.0.0.1', '::ffff:0:7f00:1', 'fec0::1', '4000::1', 'e000::1']) expect(isPublicAddress(address), address).toBe(false);
    expect(isPublicAddress('2a00:1450:4001::200e')).toBe(true);
  });

  it('classifies addresses', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true);
    expect(isPublicAddress('2001:4860:4860::8888')).toBe(true);
    expect(isPublicAddress('::ffff:192.168.0.1')).toBe(false);
    expect(isPublicAddress('not an address')).toBe(false);
  });

  it('a delivery does not connect to a name that resolves to a loopback address', async () => {
    const lookup = (allow: boolean) =>
      new Promise<string>((resolve) => publicOnlyLookup(allow)('localhost', { all: true }, (error, addresses) => resolve(error ? String((error as NodeJS.ErrnoException).code) : JSON.stringify(addresses))));
    expect(await lookup(false)).toBe('EWEBHOOKADDRESS');
    expect(await lookup(true)).toMatch(/127\.0\.0\.1|::1/);
  });
});
