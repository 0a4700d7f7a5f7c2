import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessRegistry, loadCatalog, readAccessRegistry } from '@tower/shared';
import { ensureDemoCredentials, ensureLoadDisplay, readDemoCredentials } from './credentials.ts';

describe('demo credentials', () => {
  it('give the demo operator a display name, also to a registry an older version wrote, keeping every token', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-credentials-'));
    try {
      ensureDemoCredentials(loadCatalog(), directory);
      const registryFile = path.join(directory, 'access.json');
      const operator = readDemoCredentials(directory).access.find((a) => a.role === 'operator')!;
      const registry = () => new AccessRegistry(readAccessRegistry(registryFile));
      expect(registry().displayName(operator.id)).toBe('Nguyễn Thu Hà');
      expect(registry().displayName('wall-1'), 'no display name: the id').toBe('wall-1');

      // A registry written before display names existed.
      const old = JSON.parse(fs.readFileSync(registryFile, 'utf8')) as { tokens: Record<string, unknown>[] };
      for (const token of old.tokens) delete token['displayName'];
      fs.writeFileSync(registryFile, JSON.stringify(old));
      expect(registry().displayName(operator.id)).toBe(operator.id);
      expect(ensureDemoCredentials(loadCatalog(), directory).created).toBe(0);
      expect(registry().displayName(operator.id)).toBe('Nguyễn Thu Hà');
      expect(registry().verify(operator.token)?.id, 'the same token still valid').toBe(operator.id);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  it('give load tests a display token allowing as many sockets as asked, raised when a run needs more, kept when it needs fewer', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-credentials-'));
    try {
      ensureDemoCredentials(loadCatalog(), directory);
      const registry = () => new AccessRegistry(readAccessRegistry(path.join(directory, 'access.json')));
      const first = ensureLoadDisplay(loadCatalog(), directory, 200);
      expect(first.changed).toBe(true);
      expect(registry().verify(first.token)).toMatchObject({ id: 'wall-load', role: 'display', maxConnections: 200 });
      expect(ensureLoadDisplay(loadCatalog(), directory, 150)).toEqual({ token: first.token, changed: false });
      const raised = ensureLoadDisplay(loadCatalog(), directory, 1000);
      expect(raised.changed).toBe(true);
      expect(registry().verify(raised.token)?.maxConnections).toBe(1000);
      expect(registry().verify(first.token), 'a new secret: accepted means the new limit is in effect').toBeUndefined();
      expect(registry().verify(readDemoCredentials(directory).access.find((a) => a.id === 'wall-1')!.token)?.maxConnections, 'the demo wall keeps its limit').toBe(50);
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
