import fs from 'node:fs';
import { readDeviceRegistry, type Logger } from '@tower/shared';
import type { DeviceRegistry } from './domain/devices.ts';

/**
 * Keeps the registry in step with its file: provisioning that adds devices (a new
 * gateway, the keys a load test needs) or disables one takes effect within
 * `intervalMs`, without a restart. A file that does not read or check keeps the
 * registry as it was (logged). Polls the file's mtime (fs.watchFile), which also sees
 * a file replaced by a rename. Returns the stop function.
 */
export function watchDeviceRegistry(file: string, registry: DeviceRegistry, logger: Logger, intervalMs: number): () => void {
  const listener = (current: fs.Stats, previous: fs.Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    try {
      const records = readDeviceRegistry(file);
      registry.replace(records);
      logger.info({ file, devices: records.length }, 'device registry re-read');
    } catch (error) {
      logger.error({ file, err: error }, 'device registry not re-read: kept as it was');
    }
  };
  fs.watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
