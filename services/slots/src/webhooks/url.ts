import dns from 'node:dns';
import net, { BlockList } from 'node:net';

/**
 * Where a firm's endpoint may point: `https` to a public address. A private, loopback,
 * link-local, shared (CGNAT), multicast, documentation or reserved address would let a
 * firm make the tower send requests into its own network (SSRF).
 *
 * A host given as a name is not resolved at registration (DNS may be away, and what a
 * name resolves to then says nothing of later: DNS rebinding): every delivery connects
 * through `publicOnlyLookup`, which refuses a name resolving to any such address, so
 * the check is made on the address actually connected to. A literal address is checked
 * at registration and again at every delivery (the setting may have changed).
 */
const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) nonPublic.addSubnet(network, prefix, 'ipv4');
// IPv6: only global unicast (2000::/3) is public. Everything outside it (::, ::1, the
// IPv4-compatible ::/96 and translated ::ffff:0:0:0/96 forms of a private IPv4 address,
// NAT64 64:ff9b::/96, ULA, link-local, site-local, multicast) is refused whole; within
// it, the special-purpose blocks below.
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');
for (const [network, prefix] of [
  ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['3fff::', 20],
] as const) nonPublic.addSubnet(network, prefix, 'ipv6');

const mappedV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Whether an IP address (v4 or v6, an IPv4-mapped v6 by its v4) is a public unicast one. */
export function isPublicAddress(address: string): boolean {
  const v4 = mappedV4.exec(address)?.[1] ?? (net.isIPv4(address) ? address : undefined);
  if (v4) return !nonPublic.check(v4, 'ipv4');
  return net.isIPv6(address) && globalUnicast.check(address, 'ipv6') && !nonPublic.check(address, 'ipv6');
}

const loopbackHosts = new Set(['127.0.0.1', '[::1]']);
/** Names that never resolve to a public address (RFC 6761, mDNS, common internal suffixes). */
const internalName = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa)\.?$/i;

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Whether `raw` may be a webhook endpoint: `https`, no credentials in it, a host that is
 * a public address or a name not internal by its form. `allowLoopbackHttp` (tests, the
 * demo: WEBHOOKS_ALLOW_LOOPBACK_HTTP) also lets `http://127.0.0.1` and `http://[::1]` in.
 */
export function checkEndpointUrl(raw: string, allowLoopbackHttp: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not an absolute URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not carry a user name or password (they would be logged and stored in the clear)' };
  if (url.hash) return { ok: false, reason: 'must not have a fragment' };
  if (allowLoopbackHttp && (url.protocol === 'http:' || url.protocol === 'https:') && loopbackHosts.has(url.hostname)) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, reason: allowLoopbackHttp ? 'must be https (http only to 127.0.0.1 or [::1])' : 'must be https' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) !== 0) return isPublicAddress(host) ? { ok: true, url } : { ok: false, reason: `${host} is not a public address (private, loopback, link-local or reserved)` };
  if (!host.includes('.') || internalName.test(host)) return { ok: false, reason: `${host} is not a public host name` };
  return { ok: true, url };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that refuses a name resolving to any non-public address
 * (the connection then goes to an address that was checked, not to a second resolution).
 * With `allowLoopback`, loopback addresses are let through as well (tests, the demo).
 */
export function publicOnlyLookup(allowLoopback: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((a) => !isPublicAddress(a.address) && !(allowLoopback && isLoopback(a.address)));
      if (refused) return callback(Object.assign(new Error(`${hostname} resolves to ${refused.address}, not a public address`), { code: 'EWEBHOOKADDRESS' }), []);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

const isLoopback = (address: string) => address === '::1' || /^(::ffff:)?127\./i.test(address);
