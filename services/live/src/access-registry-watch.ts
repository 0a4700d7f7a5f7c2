import { readAccessRegistry, watchRegistryFile, type AccessRegistry, type Logger } from '@tower/shared';

/**
 * Keeps the access registry in step with ACCESS_FILE: a token added, disabled or given
 * more connections by provisioning (a new wall, the display token a load test needs)
 * takes effect within `intervalMs`, without a restart; a broken file keeps the registry
 * as it was. Sockets already open stay open. Returns the stop function.
 */
export const watchAccessRegistry = (file: string, registry: AccessRegistry, logger: Logger, intervalMs: number): (() => void) =>
  watchRegistryFile(file, 'access registry', readAccessRegistry, registry, logger, intervalMs);
