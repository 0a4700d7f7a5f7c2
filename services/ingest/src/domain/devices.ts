import { timingSafeEqual } from 'node:crypto';
import { ForbiddenProblem, UnauthorizedProblem, bearerToken, hashSecret, type DeviceRecord } from '@tower/shared';

/**
 * Devices authenticate with `Authorization: Bearer <device id>.<secret>`. The registry
 * keeps only the SHA-256 of each secret (secrets are 32 random bytes, so a fast hash
 * is enough and keeps authentication cheap per request); each device is scoped to
 * one site.
 */
export interface Device {
  id: string;
  site: string;
}

export class DeviceRegistry {
  private byId = new Map<string, DeviceRecord>();

  constructor(records: readonly DeviceRecord[]) {
    this.replace(records);
  }

  /** The registry as re-read from its file: devices added, removed or disabled take effect at the next request. */
  replace(records: readonly DeviceRecord[]): void {
    this.byId = new Map(records.map((r) => [r.id, r]));
  }

  get size(): number {
    return this.byId.size;
  }

  authenticate(authorization: string | undefined): Device {
    if (!authorization) throw new UnauthorizedProblem('send the device key as Authorization: Bearer <device id>.<secret>');
    const match = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16,128})$/.exec(bearerToken(authorization));
    if (!match) throw new UnauthorizedProblem('the Authorization header is not Bearer <device id>.<secret>');
    const [, id, secret] = match as unknown as [string, string, string];
    const record = this.byId.get(id);
    const presented = Buffer.from(hashSecret(secret), 'hex');
    // Compare against something even for unknown devices, so timing does not tell which ids exist.
    const expected = Buffer.from(record?.keySha256 ?? '0'.repeat(64), 'hex');
    if (!record || expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
      throw new UnauthorizedProblem('unknown device or wrong key');
    }
    if (!record.enabled) throw new ForbiddenProblem(`device ${id} is disabled`);
    return { id: record.id, site: record.site };
  }
}
