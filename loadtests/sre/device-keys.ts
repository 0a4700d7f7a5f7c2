/**
 * Device keys for a run: ingest limits each device (DEVICE_RATE_EVENTS_PER_SECOND,
 * 2,000 events/s by default), so a load test sends as many simulated gateways as its
 * peak needs, each at most half that. On a local stack (the target's registryDirectory)
 * the keys are added to its registry, which ingest re-reads within seconds; a
 * deployment's keys come from its target file, and too few are reported.
 */
import type { SiteCatalog } from '@tower/shared';
import { ensureLoadDevices, ensureLoadDisplay, loadDisplayId, readDemoCredentials } from '../../infra/provision/credentials.ts';
import type { PoolBatch } from './events.ts';
import { tokenOf, type Target } from './target.ts';

/** Events per second one simulated device sends at most: half of ingest's default per-device rate. */
const eventsPerDevice = 1000;

/** Devices per site for a peak rate, by each site's share of the pool's events. */
export function devicesNeeded(pool: readonly PoolBatch[], peakEventsPerSecond: number): Record<string, number> {
  const total = pool.reduce((sum, b) => sum + b.events.length, 0);
  const bySite: Record<string, number> = {};
  for (const batch of pool) bySite[batch.site] = (bySite[batch.site] ?? 0) + batch.events.length;
  return Object.fromEntries(Object.entries(bySite).map(([site, events]) => [site, Math.max(1, Math.ceil((peakEventsPerSecond * events) / total / eventsPerDevice))]));
}

const keysBySite = (devices: readonly { site: string; apiKey: string }[]) => {
  const keys: Record<string, string[]> = {};
  for (const device of devices) (keys[device.site] ??= []).push(device.apiKey);
  return keys;
};

/** Waits until a service takes a credential the run just added to its registry (it answers 401 until it re-read the file). */
async function awaitAccepted(url: string, init: RequestInit, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    if (response.status !== 401) return;
    if (Date.now() > deadline) throw new Error(`${url} still refuses ${what} after 60 s: is it a version that re-reads its registry file? Restart it.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Waits until ingest accepts a key (an empty batch is a 400 once the key is known, 401 before). */
const awaitKnown = (target: Target, key: string) =>
  awaitAccepted(`${target.ingest}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '[]' }, `the new device keys (${target.registryDirectory}/devices.json, DEVICES_RELOAD_MS)`);

/** Sockets the display token allows beyond the scenario's live-feed clients (the smoke's users each open one for a moment). */
const displayHeadroom = 50;

/**
 * The display token for the live-feed clients: on a local stack, the load tests' own
 * (`wall-load`) allowing the clients and some headroom, added to its registry, which the
 * live gateway re-reads (ACCESS_RELOAD_MS); the run waits until it is accepted. A
 * deployment's target names one whose maxConnections the SRE provisioned.
 */
export async function provideDisplayToken(target: Target, catalog: SiteCatalog, clients: number, say: (line: string) => void): Promise<string> {
  if (!target.registryDirectory) return tokenOf(target, 'display');
  const { token, changed } = ensureLoadDisplay(catalog, target.registryDirectory, clients + displayHeadroom);
  if (changed) {
    say(`the load tests' display token ${loadDisplayId} now allows ${clients + displayHeadroom} sockets (${target.registryDirectory}/credentials.json); waiting for the live gateway to take it`);
    await awaitAccepted(`${target.live}/v1/alerts`, { headers: { authorization: `Bearer ${token}` } }, `the display token ${loadDisplayId} (${target.registryDirectory}/access.json, ACCESS_RELOAD_MS)`);
  }
  return token;
}

export async function provideDeviceKeys(target: Target, catalog: SiteCatalog, need: Readonly<Record<string, number>>, say: (line: string) => void): Promise<{ keys: Record<string, string[]>; notes: string[] }> {
  if (target.registryDirectory) {
    const added = ensureLoadDevices(catalog, target.registryDirectory, need);
    const keys = keysBySite(readDemoCredentials(target.registryDirectory).devices);
    if (added > 0) {
      say(`added ${added} load-test device keys to ${target.registryDirectory}/credentials.json; waiting for ingest to take them`);
      for (const site of Object.keys(need)) await awaitKnown(target, keys[site]?.at(-1) ?? '');
    }
    return { keys, notes: [] };
  }
  const keys = keysBySite(target.credentials.devices);
  const short = Object.entries(need).filter(([site, n]) => (keys[site]?.length ?? 0) < n);
  return {
    keys,
    notes: short.map(([site, n]) => `the target has ${keys[site]?.length ?? 0} device keys at ${site}, the peak needs ${n} (at ${eventsPerDevice} events/s each): 429 answers may be the devices' rate limit, not the system`),
  };
}
