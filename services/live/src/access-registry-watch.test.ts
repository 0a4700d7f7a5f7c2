import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AccessRegistry, createLogger, hashSecret, type AccessRecord } from '@tower/shared';
import { describe, expect, it, vi } from 'vitest';
import { eventually } from '@tower/shared/testing';
import { watchAccessRegistry } from './access-registry-watch.ts';

const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ';
const token = (id: string, maxConnections = 50, enabled = true): AccessRecord => ({ id, role: 'display', name: id, tokenSha256: hashSecret(secret), maxConnections, enabled });
const write = (file: string, tokens: AccessRecord[]) => {
  // A new file renamed over the old, as provisioning would; its mtime moves on.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, tokens }));
  fs.renameSync(`${file}.tmp`, file);
};
const until = (condition: () => boolean, what: string) => eventually(async () => (condition() ? true : undefined), { timeoutMs: 20_000, what });

describe('access registry file watch', () => {
  it('takes a token added, given more connections or disabled in the file without a restart, and keeps the registry when the file is broken', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'access-')), 'access.json');
    write(file, [token('wall-1')]);
    const registry = new AccessRegistry([token('wall-1')]);
    const logger = createLogger({ service: 'test', level: 'silent' });
    const errorsLogged = vi.spyOn(logger, 'error');
    const stop = watchAccessRegistry(file, registry, logger, 20);
    try {
      expect(registry.verify(`wall-load.${secret}`)).toBeUndefined();
      write(file, [token('wall-1'), token('wall-load', 200)]);
      await until(() => registry.verify(`wall-load.${secret}`)?.maxConnections === 200, 'the added token accepted');

      write(file, [token('wall-1'), token('wall-load', 1000)]);
      await until(() => registry.verify(`wall-load.${secret}`)?.maxConnections === 1000, 'the token’s new connection limit');

      write(file, [token('wall-1', 50, false), token('wall-load', 1000)]);
      await until(() => registry.verify(`wall-1.${secret}`) === undefined, 'the disabled token refused');

      // Checked once the watch has read the broken file and said so (a fixed sleep could check before it is read at all).
      fs.writeFileSync(file, '{ not json');
      await until(() => errorsLogged.mock.calls.length > 0, 'the broken file read and refused');
      expect(registry.verify(`wall-load.${secret}`)?.maxConnections).toBe(1000);
    } finally {
      stop();
      fs.rmSync(path.dirname(file), { recursive: true });
    }
  }, 30_000);

  it('takes, as it starts, a change made after the service read the file and before the watch started', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'access-')), 'access.json');
    const registry = new AccessRegistry([token('wall-1')]);
    // Provisioning wrote the file while the service was connecting its clients, after its first read.
    write(file, [token('wall-1'), token('wall-load', 200)]);
    const stop = watchAccessRegistry(file, registry, createLogger({ service: 'test', level: 'silent' }), 60_000);
    try {
      expect(registry.verify(`wall-load.${secret}`)?.maxConnections).toBe(200);
    } finally {
      stop();
      fs.rmSync(path.dirname(file), { recursive: true });
    }
  });
});
