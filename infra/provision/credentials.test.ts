import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AccessRegistry, loadCatalog, readAccessRegistry } from '@tower/shared';
import { ensureDemoCredentials, readDemoCredentials } from './credentials.ts';

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
});
