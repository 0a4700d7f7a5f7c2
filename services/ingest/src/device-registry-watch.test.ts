import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, hashSecret, type DeviceRecord } from '@tower/shared';
import { describe, expect, it, vi } from 'vitest';
import { eventually } from '@tower/shared/testing';
import { watchDeviceRegistry } from './device-registry-watch.ts';
import { DeviceRegistry } from './domain/devices.ts';

const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ';
const device = (id: string, enabled = true): DeviceRecord => ({ id, site: 'bac-luan-2', keySha256: hashSecret(secret), enabled });
const write = (file: string, devices: DeviceRecord[]) => {
  // A new file renamed over the old, as an editor or provisioning would; its mtime moves on.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, devices }));
  fs.renameSync(`${file}.tmp`, file);
};
const accepts = (registry: DeviceRegistry, id: string) => {
  try {
    registry.authenticate(`Bearer ${id}.${secret}`);
    return true;
  } catch {
    return false;
  }
};
const until = (condition: () => boolean, what: string) => eventually(async () => (condition() ? true : undefined), { timeoutMs: 20_000, what });

describe('device registry file watch', () => {
  it('takes a device added or disabled in the file without a restart, and keeps the registry when the file is broken', { timeout: 30_000 }, async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'devices-')), 'devices.json');
    write(file, [device('bl2-gw-1')]);
    const registry = new DeviceRegistry([device('bl2-gw-1')]);
    const logger = createLogger({ service: 'test', level: 'silent' });
    const errorsLogged = vi.spyOn(logger, 'error');
    const stop = watchDeviceRegistry(file, registry, logger, 20);
    try {
      expect(accepts(registry, 'bl2-load-1')).toBe(false);
      write(file, [device('bl2-gw-1'), device('bl2-load-1')]);
      await until(() => accepts(registry, 'bl2-load-1'), 'the added device accepted');

      write(file, [device('bl2-gw-1', false), device('bl2-load-1')]);
      await until(() => !accepts(registry, 'bl2-gw-1'), 'the disabled device refused');

      // Checked once the watch has read the broken file and said so (a fixed sleep could check before it is read at all).
      fs.writeFileSync(file, '{ not json');
      await until(() => errorsLogged.mock.calls.length > 0, 'the broken file read and refused');
      expect(accepts(registry, 'bl2-load-1')).toBe(true);
    } finally {
      stop();
      fs.rmSync(path.dirname(file), { recursive: true });
    }
  });
});
