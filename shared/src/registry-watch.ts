import fs from 'node:fs';
import type { Logger } from './logging.ts';

/**
 * Keeps a service's registry (devices, access tokens) in step with its file:
 * provisioning that adds, changes or disables an entry takes effect within
 * `intervalMs`, without a restart. `reload` reads the file, checks it and puts it in
 * place, returning how many entries it holds; a file that does not read or check keeps
 * the registry as it was (logged). Polls the file's mtime (fs.watchFile), which also
 * sees a file replaced by a rename. Returns the stop function.
 */
export function watchRegistryFile(file: string, what: string, reload: () => number, logger: Logger, intervalMs: number): () => void {
  const listener = (current: fs.Stats, previous: fs.Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    try {
      logger.info({ file, entries: reload() }, `${what} re-read`);
    } catch (error) {
      logger.error({ file, err: error }, `${what} not re-read: kept as it was`);
    }
  };
  fs.watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
