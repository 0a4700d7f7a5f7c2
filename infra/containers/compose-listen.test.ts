import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../local/profiles.ts';
import { discoverServices } from '../local/services.ts';

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
}

// The committed file (compose.test.ts holds it to the generator).
const { services } = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

describe('docker-compose.yml: the services can be reached from outside their containers', () => {
  // A service listens on HOST, 127.0.0.1 by default: in a container that is the container's own
  // loopback, which neither the published port (Docker forwards to the container's address) nor
  // Prometheus (it scrapes <service>:<port> over the compose network) reaches; the healthcheck,
  // run inside the container, passes all the same.
  it.each(discoverServices().map((s) => [s.name, s.port] as const))('%s listens on every interface of its container', (name, port) => {
    expect(services[name]?.ports).toContain(`127.0.0.1:${port}:${port}`);
    expect(services[name]?.environment?.['HOST']).toBe('0.0.0.0');
  });

  // Its INGEST_URL defaults to http://127.0.0.1:8081: in its container, its own loopback.
  it('the simulator posts to the ingest service by its name in the compose network', () => {
    const ingest = discoverServices().find((s) => s.name === 'ingest')!;
    expect(services['simulator']?.environment?.['INGEST_URL']).toBe(`http://ingest:${ingest.port}`);
  });
});
