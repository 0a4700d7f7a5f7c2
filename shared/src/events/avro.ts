import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { eventFamilies, uuidPattern, type EventFamily, type FamilyName, type TowerEvent } from './model.ts';
import { illFormedStrings } from './strings.ts';

/**
 * Avro for Kafka messages. Each family's record is derived from the TypeBox event
 * types: a field carried by every type is required, any other is nullable with a
 * null default. Messages use Avro single-object encoding: 0xC3 0x01, the 8-byte
 * little-endian CRC-64-AVRO fingerprint of the writer schema, then the Avro body, so
 * a consumer picks the writer schema from the bytes and resolves it to its own.
 *
 * Every schema version ever written is committed under `avro/<family>.v<N>.avsc`;
 * a test fails when the model changes without a new snapshot, or when a snapshot
 * is not a compatible evolution (fields added with defaults only) of the one before.
 */

type AvroSchema = string | { [key: string]: unknown } | AvroSchema[];

function avroTypeOf(field: string, schema: TSchema): AvroSchema {
  const kind = schema[Kind] as string;
  switch (kind) {
    case 'String':
      return schema['pattern'] === uuidPattern ? { type: 'string', logicalType: 'uuid' } : 'string';
    case 'Integer':
      return field === 'observedAt' ? { type: 'long', logicalType: 'timestamp-millis' } : 'long';
    case 'Number':
      return 'double';
    case 'Boolean':
      return 'boolean';
    case 'Literal':
      return typeof schema['const'] === 'string' ? 'string' : 'long';
    case 'Union': {
      // Enumerations travel as strings (or longs): new values never break old readers.
      const members = (schema['anyOf'] as TSchema[]).map((m) => avroTypeOf(field, m));
      if (members.every((m) => m === members[0])) return members[0] as AvroSchema;
      throw new Error(`field ${field}: unions of different types have no Avro mapping here`);
    }
    case 'Array':
      return { type: 'array', items: avroTypeOf(field, schema['items'] as TSchema) };
    default:
      throw new Error(`field ${field}: TypeBox kind ${kind} has no Avro mapping`);
  }
}

/** The Avro record of a family, derived from its event types. */
export function deriveFamilySchema(family: EventFamily): { type: 'record'; name: string; fields: { name: string; type: AvroSchema; default?: null }[] } {
  const fields = new Map<string, { type: AvroSchema; required: boolean; count: number }>();
  for (const variant of family.types) {
    for (const [name, property] of Object.entries(variant.properties)) {
      const type = name === 'type' ? 'string' : avroTypeOf(name, property);
      const optional = property[OptionalKind] === 'Optional';
      const known = fields.get(name);
      if (known && JSON.stringify(known.type) !== JSON.stringify(type)) throw new Error(`${family.name}: field ${name} has two different types`);
      fields.set(name, { type, required: (known?.required ?? true) && !optional, count: (known?.count ?? 0) + 1 });
    }
  }
  return {
    type: 'record',
    name: family.recordName,
    fields: [...fields].map(([name, f]) =>
      f.required && f.count === family.types.length ? { name, type: f.type } : { name, type: ['null', f.type], default: null },
    ),
  };
}

// --- CRC-64-AVRO (Rabin) fingerprints -----------------------------------------------

const fingerprintSeed = 0xc15d213aa4d7a795n;
const fingerprintTable = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j += 1) fp = (fp >> 1n) ^ (fingerprintSeed & -(fp & 1n));
  return fp;
});

/** CRC-64-AVRO of bytes, as defined by the Avro specification. */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = fingerprintSeed;
  for (const byte of bytes) fp = (fp >> 8n) ^ (fingerprintTable[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  return fp;
}

/** The fingerprint of a type's Parsing Canonical Form, as 8 little-endian bytes. */
export function fingerprintOf(type: avro.Type): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(crc64Avro(Buffer.from(JSON.stringify(type.schema()), 'utf8')));
  return bytes;
}

// --- Versions and codec --------------------------------------------------------------

export const snapshotDirectory = path.join(import.meta.dirname, 'avro');

export interface SchemaVersion {
  family: FamilyName;
  version: number;
  type: avro.Type;
  fingerprint: Buffer;
}

export function loadSnapshots(directory = snapshotDirectory): SchemaVersion[] {
  return fs
    .readdirSync(directory)
    .flatMap((file) => {
      const match = /^(truck|container|lane)\.v(\d+)\.avsc$/.exec(file);
      if (!match) return [];
      const type = avro.Type.forSchema(JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8')) as avro.Schema);
      return [{ family: match[1] as FamilyName, version: Number(match[2]), type, fingerprint: fingerprintOf(type) }];
    })
    .sort((a, b) => a.family.localeCompare(b.family) || a.version - b.version);
}

export class DecodeError extends Error {
  constructor(
    readonly reason: 'not-single-object' | 'unknown-fingerprint' | 'wrong-family' | 'corrupt-body',
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/**
 * An event with a string Avro cannot carry (not well-formed UTF-16: a lone surrogate
 * has no UTF-8 encoding). Thrown by the encoder, so no producer writes bytes that a
 * strict reader refuses; the ingest API refuses such events before they get here.
 */
export class IllFormedStringError extends Error {
  constructor(
    readonly family: FamilyName,
    /** JSON pointers of the offending strings. */
    readonly fields: string[],
  ) {
    super(`${family} event has a string that is not well-formed Unicode at ${fields.join(', ')}; Avro strings are UTF-8`);
    this.name = 'IllFormedStringError';
  }
}

const magic = Buffer.from([0xc3, 0x01]);

export interface DecodedEvent {
  event: TowerEvent;
  family: FamilyName;
  /** The writer's schema version. */
  version: number;
}

/**
 * Encodes events of any family with the current schema and decodes messages written
 * with any known version of any family.
 */
export class EventCodec {
  private readonly current = new Map<FamilyName, { type: avro.Type; header: Buffer; version: number }>();
  private readonly writers = new Map<string, { type: avro.Type; family: FamilyName; version: number; resolver: avro.Resolver }>();

  constructor(snapshots: SchemaVersion[] = loadSnapshots()) {
    for (const family of eventFamilies) {
      const type = avro.Type.forSchema(deriveFamilySchema(family) as avro.Schema);
      const fingerprint = fingerprintOf(type);
      const snapshot = snapshots.find((s) => s.family === family.name && s.fingerprint.equals(fingerprint));
      // An unsnapshotted model is still usable in a development tree; tests catch it.
      const version = snapshot?.version ?? Math.max(0, ...snapshots.filter((s) => s.family === family.name).map((s) => s.version)) + 1;
      this.current.set(family.name, { type, header: Buffer.concat([magic, fingerprint]), version });
      for (const writer of [...snapshots.filter((s) => s.family === family.name), { family: family.name, version, type, fingerprint }]) {
        this.writers.set(writer.fingerprint.toString('hex'), { type: writer.type, family: family.name, version: writer.version, resolver: type.createResolver(writer.type) });
      }
    }
  }

  versionOf(family: FamilyName): number {
    return this.current.get(family)?.version ?? 0;
  }

  encode(family: FamilyName, event: TowerEvent): Buffer {
    const current = this.current.get(family);
    if (!current) throw new Error(`unknown family ${family}`);
    const illFormed = illFormedStrings(event);
    if (illFormed.length > 0) throw new IllFormedStringError(family, illFormed.map((s) => s.pointer));
    return Buffer.concat([current.header, current.type.toBuffer(event)]);
  }

  decode(message: Buffer, expectedFamily?: FamilyName): DecodedEvent {
    if (message.length < 10 || message[0] !== 0xc3 || message[1] !== 0x01) {
      throw new DecodeError('not-single-object', 'not an Avro single-object message (no C3 01 marker)');
    }
    const fingerprint = message.subarray(2, 10).toString('hex');
    const writer = this.writers.get(fingerprint);
    if (!writer) throw new DecodeError('unknown-fingerprint', `unknown schema fingerprint ${fingerprint}`);
    if (expectedFamily && writer.family !== expectedFamily) {
      throw new DecodeError('wrong-family', `a ${writer.family} event on a ${expectedFamily} topic`);
    }
    const reader = this.current.get(writer.family)!.type;
    let record: Record<string, unknown>;
    try {
      record = reader.fromBuffer(message.subarray(10), writer.resolver) as Record<string, unknown>;
    } catch (error) {
      throw new DecodeError('corrupt-body', `Avro body does not decode: ${(error as Error).message}`);
    }
    const event: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) if (value !== null) event[key] = value;
    return { event: event as unknown as TowerEvent, family: writer.family, version: writer.version };
  }
}
