import fs from 'node:fs';
import path from 'node:path';
import { hashSecret, newDeviceSecret, type AccessRecord, type AccessRole, type DeviceRecord, type SiteCatalog } from '@tower/shared';

/**
 * Demo credentials: one gateway device per site of the catalog, one wall display and
 * one operator for the live gateway. The registries the services read hold only
 * SHA-256 hashes (`devices.json` for ingest, `access.json` for the live gateway); the
 * plain keys and tokens go to `credentials.json` for the simulator and for people
 * trying the APIs. Existing entries are kept, so keys stay stable across restarts;
 * what is missing (a new site, a file from an older version) is added.
 */
export interface DemoCredentials {
  devices: { id: string; site: string; apiKey: string }[];
  /** `maxConnections`: a token's own limit (the load tests' display token); the demo's come from the code. */
  access: { id: string; role: AccessRole; name: string; token: string; firm?: string; maxConnections?: number }[];
}

const demoAccess: { id: string; role: AccessRole; name: string; maxConnections: number; firm?: string; displayName?: string }[] = [
  { id: 'wall-1', role: 'display', name: 'Video wall, Smart Operations Center', maxConnections: 50 },
  // The display name is what the wall shows for the alerts this operator acknowledges (a made-up name).
  { id: 'operator-1', role: 'operator', name: 'Duty operator, Smart Operations Center', displayName: 'Nguyễn Thu Hà', maxConnections: 20 },
  // Two made-up logistics firms, to try the slots API and the firm's live feed.
  { id: 'haiha-1', role: 'firm', firm: 'haiha-logistics', name: 'Hải Hà Logistics (demo firm)', maxConnections: 10 },
  { id: 'donghung-1', role: 'firm', firm: 'donghung-trade', name: 'Đông Hưng Trade (demo firm)', maxConnections: 10 },
];

const secretOf = (credential: string, id: string) => credential.slice(id.length + 1);

export function ensureDemoCredentials(catalog: SiteCatalog, directory: string): { created: number; file: string } {
  const credentialsFile = path.join(directory, 'credentials.json');
  const deviceRegistryFile = path.join(directory, 'devices.json');
  const accessRegistryFile = path.join(directory, 'access.json');
  const existing = (fs.existsSync(credentialsFile) ? JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) : {}) as Partial<DemoCredentials>;
  const devices = [...(existing.devices ?? [])];
  const access = [...(existing.access ?? [])];
  let created = 0;
  for (const site of catalog.document.sites) {
    if (devices.some((d) => d.site === site.id)) continue;
    const id = `${site.code}-gw-1`;
    devices.push({ id, site: site.id, apiKey: `${id}.${newDeviceSecret()}` });
    created += 1;
  }
  for (const holder of demoAccess) {
    if (access.some((a) => a.id === holder.id)) continue;
    access.push({ id: holder.id, role: holder.role, name: holder.name, token: `${holder.id}.${newDeviceSecret()}`, ...(holder.firm ? { firm: holder.firm } : {}) });
    created += 1;
  }
  fs.mkdirSync(directory, { recursive: true });
  const deviceRecords: DeviceRecord[] = devices.map((d) => ({ id: d.id, site: d.site, keySha256: hashSecret(secretOf(d.apiKey, d.id)), enabled: true }));
  const accessRecords: AccessRecord[] = access.map((a) => {
    // A demo holder's display name and limit are kept in the code, not credentials.json, so an older file gains them.
    const demo = demoAccess.find((d) => d.id === a.id);
    return {
      id: a.id,
      role: a.role,
      ...(a.firm ? { firm: a.firm } : {}),
      name: a.name,
      ...(demo?.displayName ? { displayName: demo.displayName } : {}),
      tokenSha256: hashSecret(secretOf(a.token, a.id)),
      maxConnections: a.maxConnections ?? demo?.maxConnections ?? 10,
      enabled: true,
    };
  });
  if (created > 0 || !fs.existsSync(credentialsFile)) {
    const note = 'Demo credentials. Devices: Authorization: Bearer <apiKey> on the ingest API. Access: the live gateway token (wall display: http://127.0.0.1:8080/?token=<token>); firm tokens are API keys of the slots API (Authorization: Bearer <token> on http://127.0.0.1:8082). Keep out of version control.';
    fs.writeFileSync(credentialsFile, `${JSON.stringify({ note, devices, access }, null, 2)}\n`, { mode: 0o600 });
  }
  // The registries follow the credentials and the code (a registry written by an older version gains the display names).
  writeIfChanged(deviceRegistryFile, `${JSON.stringify({ version: 1, devices: deviceRecords }, null, 2)}\n`);
  writeIfChanged(accessRegistryFile, `${JSON.stringify({ version: 1, tokens: accessRecords }, null, 2)}\n`);
  return { created, file: credentialsFile };
}

function writeIfChanged(file: string, text: string): void {
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
}

/**
 * Device keys for load tests: `<site code>-load-<n>` up to the given count per site,
 * added to credentials.json (existing ones kept) and so to the ingest registry, which
 * the ingest service re-reads within seconds. Returns how many were added.
 */
export function ensureLoadDevices(catalog: SiteCatalog, directory: string, perSite: Readonly<Record<string, number>>): number {
  const credentials = readDemoCredentials(directory);
  let added = 0;
  for (const site of catalog.document.sites) {
    for (let n = 1; n <= (perSite[site.id] ?? 0); n += 1) {
      const id = `${site.code}-load-${n}`;
      if (credentials.devices.some((d) => d.id === id)) continue;
      credentials.devices.push({ id, site: site.id, apiKey: `${id}.${newDeviceSecret()}` });
      added += 1;
    }
  }
  if (added > 0) {
    fs.writeFileSync(path.join(directory, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    ensureDemoCredentials(catalog, directory);
  }
  return added;
}

/** The display token of load tests: its id in credentials.json and access.json. */
export const loadDisplayId = 'wall-load';

/**
 * A display token for load tests allowing at least `maxConnections` sockets at once
 * (`wall-load`, added or raised in credentials.json and so in the access registry,
 * which the live gateway re-reads within seconds) with a new secret whenever it
 * changes. Returns its token and whether the registry changed.
 */
export function ensureLoadDisplay(catalog: SiteCatalog, directory: string, maxConnections: number): { token: string; changed: boolean } {
  const credentials = readDemoCredentials(directory);
  const holder = credentials.access.find((a) => a.id === loadDisplayId);
  if (holder && (holder.maxConnections ?? 0) >= maxConnections) return { token: holder.token, changed: false };
  // A new secret each time: once the service accepts the new token, it has the new limit too.
  const token = `${loadDisplayId}.${newDeviceSecret()}`;
  credentials.access = [...credentials.access.filter((a) => a !== holder), { id: loadDisplayId, role: 'display', name: 'Load tests (live-feed clients)', token, maxConnections }];
  fs.writeFileSync(path.join(directory, 'credentials.json'), `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  ensureDemoCredentials(catalog, directory);
  return { token, changed: true };
}

export function readDemoCredentials(directory: string): DemoCredentials {
  return JSON.parse(fs.readFileSync(path.join(directory, 'credentials.json'), 'utf8')) as DemoCredentials;
}
