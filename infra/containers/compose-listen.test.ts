import { describe, expect, it } from 'vitest';
import { discoverServices } from '../local/services.ts';
import { composeDocument } from './compose.ts';

interface Service {
  environment?: Record<string, string>;
  ports?: string[];
}

describe('docker-compose.yml: the services can be reached from outside their containers', () => {
  // A service listens on HOST, 127.0.0.1 by default: in a container that is the container's own
  // loopback, which neither the published port (Docker forwards to the container's address) nor
  // Prometheus (it scrapes <service>:<port> over the compose network) reaches; the healthcheck,
  // run inside the container, passes all the same.
  it.each(discoverServices().map((s) => [s.name, s.port] as const))('%s listens on every interface of its container', (name, port) => {
    const service = (composeDocument() as { services: Record<string, Service> }).services[name]!;
    expect(service.ports).toContain(`127.0.0.1:${port}:${port}`);
    expect(service.environment?.['HOST']).toBe('0.0.0.0');
  });
});
