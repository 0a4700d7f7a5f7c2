import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

/**
 * The device registry file: which devices may send events, for which site, and the
 * SHA-256 of each device's secret. Written by provisioning (demo devices, with the
 * plain keys in .local/credentials.json), read by the ingest service.
 */
export const DeviceRecordSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    site: Type.String({ minLength: 1 }),
    keySha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export const DeviceRegistryFile = Type.Object({ version: Type.Literal(1), devices: Type.Array(DeviceRecordSchema) }, { additionalProperties: false });
export type DeviceRecord = Static<typeof DeviceRecordSchema>;

const checkRegistry = TypeCompiler.Compile(DeviceRegistryFile);

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A registry file written by provisioning, checked against its schema: a missing or
 * invalid file fails the service's start with the path and the first problem.
 */
export function readRegistryFile<T>(file: string, what: string, check: TypeCheck<TSchema>): T {
  if (!fs.existsSync(file)) throw new Error(`${what} ${file} does not exist; npm start (or npm run provision) creates it`);
  const document: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const first = check.Errors(document).First();
  if (first) throw new Error(`${what} ${file} is invalid at ${first.path || '/'}: ${first.message}`);
  return document as T;
}

export function readDeviceRegistry(file: string): DeviceRecord[] {
  return readRegistryFile<Static<typeof DeviceRegistryFile>>(file, 'device registry', checkRegistry).devices;
}
