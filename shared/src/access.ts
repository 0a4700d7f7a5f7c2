import { timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { hashSecret, readRegistryFile } from './devices.ts';

/**
 * Who may open the live gateway: wall displays (read only) and operators (who also
 * acknowledge alerts). The registry holds SHA-256 hashes of the tokens; the tokens
 * themselves (`<id>.<secret>`) are handed out (demo ones in .local/credentials.json).
 */
export const accessRoles = ['display', 'operator'] as const;
export type AccessRole = (typeof accessRoles)[number];

export const AccessRecord = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    role: Type.Union(accessRoles.map((r) => Type.Literal(r))),
    name: Type.String({ minLength: 1, maxLength: 100, description: 'who or what holds it, e.g. "Wall 1, Smart Operations Center"' }),
    tokenSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    maxConnections: Type.Integer({ minimum: 1, maximum: 100_000, description: 'sockets open at once with this token' }),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type AccessRecord = Static<typeof AccessRecord>;
export const AccessRegistryFile = Type.Object({ version: Type.Literal(1), tokens: Type.Array(AccessRecord) }, { additionalProperties: false });

const checkRegistry = TypeCompiler.Compile(AccessRegistryFile);

export function readAccessRegistry(file: string): AccessRecord[] {
  return readRegistryFile<Static<typeof AccessRegistryFile>>(file, 'access registry', checkRegistry).tokens;
}

/** Looks tokens up by id and checks the secret's hash; knows nothing of HTTP. */
export class AccessRegistry {
  private readonly byId: Map<string, AccessRecord>;

  constructor(records: readonly AccessRecord[]) {
    this.byId = new Map(records.map((r) => [r.id, r]));
  }

  /** The enabled record a `<id>.<secret>` token belongs to, or undefined. */
  verify(token: string): AccessRecord | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const record = this.byId.get(token.slice(0, dot));
    if (!record?.enabled) return undefined;
    const presented = Buffer.from(hashSecret(token.slice(dot + 1)), 'hex');
    return timingSafeEqual(presented, Buffer.from(record.tokenSha256, 'hex')) ? record : undefined;
  }
}
