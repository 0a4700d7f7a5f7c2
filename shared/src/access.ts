import { timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { hashSecret, readRegistryFile } from './devices.ts';
import { UnauthorizedProblem } from './errors.ts';

/**
 * Who may use the operators' gateway and the slots API: wall displays (read only),
 * operators (who also acknowledge alerts and manage slot capacity) and logistics firms
 * (who book crossing slots and see only their own bookings). The registry holds SHA-256
 * hashes of the tokens; the tokens themselves (`<id>.<secret>`, a firm's API key) are
 * handed out (demo ones in .local/credentials.json).
 */
export const accessRoles = ['display', 'operator', 'firm'] as const;
export type AccessRole = (typeof accessRoles)[number];

export const AccessRecord = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    role: Type.Union(accessRoles.map((r) => Type.Literal(r))),
    firm: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,40}$', description: 'the firm a `firm` token acts for (several keys may share one firm)' })),
    name: Type.String({ minLength: 1, maxLength: 100, description: 'who or what holds it, e.g. "Wall 1, Smart Operations Center"' }),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'what the wall shows for what this token did, e.g. the operator who acknowledged an alert ("Nguyễn Thu Hà"); the id when absent' })),
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
  const tokens = readRegistryFile<Static<typeof AccessRegistryFile>>(file, 'access registry', checkRegistry).tokens;
  const index = tokens.findIndex((t) => (t.role === 'firm') !== (t.firm !== undefined));
  if (index >= 0) throw new Error(`access registry ${file} is invalid at /tokens/${index}/firm: a firm token names its firm, and only a firm token does`);
  return tokens;
}

/** The name shown for what a token's holder did: its display name, else its id. */
export const displayNameOf = (record: AccessRecord): string => record.displayName ?? record.id;

/**
 * The token of an `Authorization: Bearer <token>` header ('' when there is none). The
 * scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are Bearer too.
 */
export function bearerToken(authorization: string | undefined): string {
  return /^bearer[ \t]+(.*)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
}

/** Looks tokens up by id and checks the secret's hash; knows nothing of HTTP. */
export class AccessRegistry {
  private byId = new Map<string, AccessRecord>();

  constructor(records: readonly AccessRecord[]) {
    this.replace(records);
  }

  /** The registry as re-read from its file: tokens added, changed (maxConnections) or disabled take effect at the next request or connection. */
  replace(records: readonly AccessRecord[]): void {
    this.byId = new Map(records.map((r) => [r.id, r]));
  }

  /** Whether any key (enabled or not) acts for this firm: the firms that exist. */
  hasFirm(firm: string): boolean {
    return [...this.byId.values()].some((r) => r.role === 'firm' && r.firm === firm);
  }

  /** The name shown for a token's holder (its display name, else its id); undefined for an id the registry does not hold. */
  displayName(id: string): string | undefined {
    const record = this.byId.get(id);
    return record && displayNameOf(record);
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

  /** The holder of a request's bearer token; 401 problem when it is missing or not valid. */
  authenticate(authorization: string | undefined, hint: string): AccessRecord {
    const token = bearerToken(authorization);
    if (!token) throw new UnauthorizedProblem(`send ${hint} as Authorization: Bearer <token>`);
    const record = this.verify(token);
    if (!record) throw new UnauthorizedProblem('the token is not valid or has been disabled');
    return record;
  }
}
