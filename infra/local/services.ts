import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, type InfraProfile } from './profiles.ts';
import type { ServerSpec } from './supervisor.ts';

/**
 * A service is a workspace under services/ whose package.json has a `tower` block:
 *   "tower": { "title": "Ingest API", "port": 8081, "links": ["/docs"] }
 * It is started as `node --import tsx services/<name>/src/main.ts` with PORT and the
 * infrastructure endpoints in its environment, and is ready when /readyz answers 200.
 */
export interface ServiceDescription {
  name: string;
  title: string;
  port: number;
  links: string[];
  /** Extra `node` flags (the tower block's "nodeArgs"), e.g. a larger young generation. */
  nodeArgs: string[];
  main: string;
}

interface TowerBlock {
  title?: unknown;
  port?: unknown;
  links?: unknown;
  nodeArgs?: unknown;
}

export function discoverServices(root = path.join(repoRoot, 'services')): ServiceDescription[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((name) => fs.existsSync(path.join(root, name, 'package.json')))
    .flatMap((name) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, name, 'package.json'), 'utf8')) as { tower?: TowerBlock };
      const tower = manifest.tower;
      if (!tower) return [];
      if (typeof tower.title !== 'string' || !Number.isInteger(tower.port)) {
        throw new Error(`services/${name}/package.json: "tower" needs a string "title" and an integer "port"`);
      }
      const links = Array.isArray(tower.links) ? tower.links.filter((l): l is string => typeof l === 'string') : [];
      const nodeArgs = Array.isArray(tower.nodeArgs) ? tower.nodeArgs.filter((a): a is string => typeof a === 'string') : [];
      return [{ name, title: tower.title, port: tower.port as number, links, nodeArgs, main: path.join(root, name, 'src', 'main.ts') }];
    })
    .sort((a, b) => a.port - b.port);
}

export function serviceSpec(service: ServiceDescription, profile: InfraProfile, env: Record<string, string>): ServerSpec {
  return {
    name: `service-${service.name}`,
    label: service.title,
    command: process.execPath,
    args: [...service.nodeArgs, '--import', 'tsx', service.main],
    env: { ...env, PORT: String(service.port) },
    ports: [{ port: service.port, role: 'HTTP' }],
    profileRoot: profile.root,
    prepare: async () => undefined,
    isReady: async () => (await fetch(`http://127.0.0.1:${service.port}/readyz`, { signal: AbortSignal.timeout(1000) })).ok,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 20_000,
  };
}
