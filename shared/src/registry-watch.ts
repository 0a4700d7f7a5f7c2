import fs from 'node:fs';
import type { Logger } from './logging.ts';

/**
 * Keeps a service's registry (devices, access tokens) in step with its file:
 * provisioning that adds, changes or disables an entry takes effect within
 * `intervalMs`, without a restart. `read` reads and checks the file (throwing when it
 * does not), `registry.replace` puts it in place; a file that does not read or check
 * keeps the registry as it was (logged). Polls the file's mtime (fs.watchFile), which also
 * sees a file replaced by a rename. Returns the stop function.
 */
export function watchRegistryFile<T>(file: string, what: string, read: (file: string) => readonly T[], registry: { replace(records: readonly T[]): void }, logger: Logger, intervalMs: number): () => void {
  const listener = (current: fs.Stats, previous: fs.Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    try {
      const records = read(file);
      registry.replace(records);
      logger.info({ file, entries: records.length }, `${what} re-read`);
    } catch (error) {
      logger.error({ file, err: error }, `${what} not re-read: kept as it was`);
    }
  };
  fs.watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
