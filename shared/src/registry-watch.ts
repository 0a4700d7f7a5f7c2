import fs from 'node:fs';
import type { Logger } from './logging.ts';

/** What tells one version of the file from another: a rename over it changes the inode, an edit the time or size. */
const versionOf = (stats: fs.Stats | undefined): string => (stats ? `${stats.ino}:${stats.mtimeMs}:${stats.size}` : 'missing');

/**
 * Keeps a service's registry (devices, access tokens) in step with its file:
 * provisioning that adds, changes or disables an entry takes effect within
 * `intervalMs`, without a restart. `read` reads and checks the file (throwing when it
 * does not), `registry.replace` puts it in place; a file that does not read or check
 * keeps the registry as it was (logged). Returns the stop function.
 *
 * The file is read once as the watch starts (the service read it earlier, while it
 * started its clients: a change made meanwhile is taken now), then polled: its version
 * (inode, time, size) against the one last read. Not fs.watchFile: it takes its first
 * look at the file later, asynchronously, so a change made in between was never seen
 * (the access-registry test lost that race on a busy machine; so could a service).
 */
export function watchRegistryFile<T>(file: string, what: string, read: (file: string) => readonly T[], registry: { replace(records: readonly T[]): void }, logger: Logger, intervalMs: number): () => void {
  let lastRead = '';
  const take = (version: string) => {
    lastRead = version;
    try {
      const records = read(file);
      registry.replace(records);
      logger.info({ file, entries: records.length }, `${what} re-read`);
    } catch (error) {
      logger.error({ file, err: error }, `${what} not re-read: kept as it was`);
    }
  };
  take(versionOf(fs.statSync(file, { throwIfNoEntry: false })));
  let looking = false;
  const look = async () => {
    if (looking) return;
    looking = true;
    try {
      const version = versionOf(await fs.promises.stat(file).catch(() => undefined));
      if (version !== lastRead) take(version);
    } finally {
      looking = false;
    }
  };
  const timer = setInterval(() => void look(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
