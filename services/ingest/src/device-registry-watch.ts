import { readDeviceRegistry, watchRegistryFile, type Logger } from '@tower/shared';
import type { DeviceRegistry } from './domain/devices.ts';

/**
 * Keeps the registry in step with its file: provisioning that adds devices (a new
 * gateway, the keys a load test needs) or disables one takes effect within
 * `intervalMs`, without a restart; a broken file keeps the registry as it was.
 * Returns the stop function.
 */
export const watchDeviceRegistry = (file: string, registry: DeviceRegistry, logger: Logger, intervalMs: number): (() => void) =>
  watchRegistryFile(file, 'device registry', readDeviceRegistry, registry, logger, intervalMs);
