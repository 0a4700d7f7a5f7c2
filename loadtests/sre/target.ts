/**
 * A target: the deployment a load test runs against. One JSON file names its base
 * URLs and the credentials the scenarios use; nothing in a scenario assumes a host or
 * a port. Without `--target` the target is the local `npm start` stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { AccessRole } from '@tower/shared';

const BaseUrl = Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$', description: 'http(s)://host[:port][/prefix], no trailing path needed' });

const DeviceKey = Type.Object(
  { id: Type.String({ minLength: 1 }), site: Type.String({ minLength: 1 }), apiKey: Type.String({ minLength: 1 }) },
  { additionalProperties: true },
);
const AccessKey = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    role: Type.Union([Type.Literal('display'), Type.Literal('operator'), Type.Literal('firm')]),
    token: Type.String({ minLength: 1 }),
    firm: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
/** The shape of `.local/credentials.json` (npm start) and of a deployment's load-test credentials. */
export const CredentialsSchema = Type.Object({ devices: Type.Array(DeviceKey), access: Type.Array(AccessKey) }, { additionalProperties: true });
export type Credentials = Static<typeof CredentialsSchema>;

export const TargetSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'shown in the report' }),
    ingest: BaseUrl,
    live: BaseUrl,
    slots: BaseUrl,
    credentials: Type.Optional(CredentialsSchema),
    credentialsFile: Type.Optional(Type.String({ minLength: 1, description: 'relative to the target file' })),
    clickhouse: Type.Optional(
      Type.Object(
        {
          url: BaseUrl,
          user: Type.String({ minLength: 1 }),
          password: Type.Optional(Type.String()),
          passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'a JSON file and the path to the password in it, file#clickhouse.tower_reader' })),
          database: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), BaseUrl, { description: 'service name → URL of its Prometheus /metrics' })),
    sharesMachine: Type.Optional(Type.Boolean({ description: 'the load generator runs on the machine of the system; default: true when every URL is a loopback address' })),
    registryDirectory: Type.Optional(Type.String({ minLength: 1, description: 'a local stack’s .local directory (credentials.json, devices.json), relative to the target file: the load test adds the device keys it needs there' })),
  },
  { additionalProperties: false },
);
export type TargetFile = Static<typeof TargetSchema>;

export interface Target {
  name: string;
  /** Where it came from: a file, or the local stack. */
  source: string;
  ingest: string;
  live: string;
  slots: string;
  credentials: Credentials;
  clickhouse?: { url: string; user: string; password: string; database: string };
  metrics: Record<string, string>;
  sharesMachine: boolean;
  /** A local stack's credentials directory, where device keys can be added (absolute). */
  registryDirectory?: string;
}

const checkTarget = TypeCompiler.Compile(TargetSchema);
const checkCredentials = TypeCompiler.Compile(CredentialsSchema);

export class TargetError extends Error {}

/** A request to the target (with a Bearer token when given, a JSON body when `init` has one) and its JSON answer; any answer but 2xx is a TargetError. */
export async function callJson<T>(url: string, token?: string, init: RequestInit = {}): Promise<T> {
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) };
  const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new TargetError(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return (await response.json()) as T;
}

function firstProblem(check: { Errors(value: unknown): { First(): { path: string; message: string } | undefined } }, value: unknown, where: string): void {
  const first = check.Errors(value).First();
  if (first) throw new TargetError(`${where}: ${first.path || '/'} ${first.message}`);
}

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new TargetError(`${what} ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TargetError(`${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

/** `file#a.b.c`: the string at that path of a JSON file. */
function secretFrom(reference: string, base: string, field: string): string {
  const [file = '', pointer = ''] = reference.split('#');
  let value: unknown = readJson(path.resolve(base, file), field);
  for (const key of pointer.split('.').filter(Boolean)) value = (value as Record<string, unknown> | undefined)?.[key];
  if (typeof value !== 'string') throw new TargetError(`${field}: ${reference} names no string`);
  return value;
}

const loopback = (url: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
const trimmed = (url: string) => url.replace(/\/+$/, '');

/** Checks a parsed target document; `base` resolves its relative file names. */
export function targetOf(document: unknown, source: string, base: string): Target {
  firstProblem(checkTarget, document, `target ${source}`);
  const file = document as TargetFile;
  if (!file.credentials === !file.credentialsFile) throw new TargetError(`target ${source}: / give exactly one of credentials and credentialsFile`);
  const credentials = file.credentials ?? readJson(path.resolve(base, file.credentialsFile ?? ''), 'credentialsFile');
  firstProblem(checkCredentials, credentials, file.credentials ? `target ${source} /credentials` : `credentialsFile ${file.credentialsFile}`);
  const ch = file.clickhouse;
  if (ch && (ch.password === undefined) === (ch.passwordFile === undefined)) throw new TargetError(`target ${source}: /clickhouse give exactly one of password and passwordFile`);
  const urls = [file.ingest, file.live, file.slots];
  return {
    name: file.name,
    source,
    ingest: trimmed(file.ingest),
    live: trimmed(file.live),
    slots: trimmed(file.slots),
    credentials: credentials as Credentials,
    ...(ch ? { clickhouse: { url: trimmed(ch.url), user: ch.user, password: ch.password ?? secretFrom(ch.passwordFile ?? '', base, '/clickhouse/passwordFile'), database: ch.database ?? 'tower' } } : {}),
    metrics: file.metrics ?? {},
    sharesMachine: file.sharesMachine ?? urls.every(loopback),
    ...(file.registryDirectory ? { registryDirectory: path.resolve(base, file.registryDirectory) } : {}),
  };
}

export function readTarget(file: string): Target {
  return targetOf(readJson(file, 'target'), file, path.dirname(path.resolve(file)));
}

/** The local `npm start` stack (ports of the dev profile) and its generated credentials. */
export function localTarget(repoRoot: string): Target {
  const local = path.join(repoRoot, '.local');
  if (!fs.existsSync(path.join(local, 'credentials.json'))) throw new TargetError(`${path.join(local, 'credentials.json')} does not exist: run npm start first, or give --target <file>`);
  return targetOf(
    {
      name: 'local npm start',
      ingest: 'http://127.0.0.1:8081',
      live: 'http://127.0.0.1:8080',
      slots: 'http://127.0.0.1:8082',
      credentialsFile: 'credentials.json',
      clickhouse: { url: 'http://127.0.0.1:8123', user: 'tower_reader', passwordFile: 'dev/credentials/infra.json#clickhouse.tower_reader' },
      metrics: { ingest: 'http://127.0.0.1:8081/metrics', aggregator: 'http://127.0.0.1:8084/metrics', live: 'http://127.0.0.1:8080/metrics', slots: 'http://127.0.0.1:8082/metrics' },
      registryDirectory: '.',
    },
    '.local/credentials.json',
    local,
  );
}

/** The first access token of a role (and firm), or an error naming what the target lacks. */
export function tokenOf(target: Target, role: AccessRole): string {
  const found = target.credentials.access.find((a) => a.role === role);
  if (!found) throw new TargetError(`target ${target.source}: its credentials have no ${role} token (access[].role = "${role}")`);
  return found.token;
}
