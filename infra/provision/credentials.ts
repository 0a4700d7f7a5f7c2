import fs from 'node:fs';
import path from 'node:path';
import { hashSecret, newDeviceSecret, type DeviceRecord, type SiteCatalog } from '@tower/shared';

/**
 * Demo credentials: one gateway device per site of the catalog. The registry the
 * ingest service reads holds only SHA-256 hashes (`devices.json`); the plain keys go
 * to `credentials.json` for the simulator and for people trying the API. Existing
 * files are kept, so keys stay stable across restarts; devices for new sites are added.
 */
export interface DemoCredentials {
  devices: { id: string; site: string; apiKey: string }[];
}

export function ensureDemoCredentials(catalog: SiteCatalog, directory: string): { created: number; file: string } {
  const credentialsFile = path.join(directory, 'credentials.json');
  const registryFile = path.join(directory, 'devices.json');
  const existing: DemoCredentials = fs.existsSync(credentialsFile) ? (JSON.parse(fs.readFileSync(credentialsFile, 'utf8')) as DemoCredentials) : { devices: [] };
  const devices = [...existing.devices];
  for (const site of catalog.document.sites) {
    if (devices.some((d) => d.site === site.id)) continue;
    const id = `${site.code}-gw-1`;
    devices.push({ id, site: site.id, apiKey: `${id}.${newDeviceSecret()}` });
  }
  const created = devices.length - existing.devices.length;
  fs.mkdirSync(directory, { recursive: true });
  if (created > 0 || !fs.existsSync(registryFile)) {
    const records: DeviceRecord[] = devices.map((d) => ({ id: d.id, site: d.site, keySha256: hashSecret(d.apiKey.slice(d.id.length + 1)), enabled: true }));
    fs.writeFileSync(credentialsFile, `${JSON.stringify({ note: 'Demo keys: Authorization: Bearer <apiKey>. Keep out of version control.', devices }, null, 2)}\n`, { mode: 0o600 });
    fs.writeFileSync(registryFile, `${JSON.stringify({ version: 1, devices: records }, null, 2)}\n`);
  }
  return { created, file: credentialsFile };
}

export function readDemoCredentials(directory: string): DemoCredentials {
  return JSON.parse(fs.readFileSync(path.join(directory, 'credentials.json'), 'utf8')) as DemoCredentials;
}
