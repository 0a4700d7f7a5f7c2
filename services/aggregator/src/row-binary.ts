import { ValidationProblem } from '@tower/shared';
import type { ColumnValue as RawRowValue } from './domain/rows.ts';

/**
 * Raw rows written straight into an INSERT body in ClickHouse's RowBinary format (the
 * same bytes on 18.16 and current versions): no row objects, no JSON text for the server
 * to parse. Little-endian numbers, a DateTime as UInt32 seconds, a String as its UTF-8
 * length (LEB128) and bytes, an Array as its length (LEB128) and elements.
 */
export class RowBinaryWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Where the next byte goes: `truncate` to it drops what was written after. */
  get position(): number {
    return this.length;
  }

  truncate(position: number): void {
    this.length = position;
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  private varUInt(value: number): void {
    this.room(5);
    while (value >= 0x80) {
      this.buffer[this.length++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[this.length++] = value;
  }

  string(value: string): void {
    // Under 43 UTF-16 units a string takes at most 126 bytes: its length is one byte, written after the text.
    if (value.length < 43) {
      this.room(1 + value.length * 3);
      const written = this.buffer.write(value, this.length + 1, 'utf8');
      this.buffer[this.length] = written;
      this.length += 1 + written;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varUInt(bytes);
    this.room(bytes);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  /** An integer of `bytes` bytes (1, 2 or 4), signed or not, checked in range by the caller. */
  integer(value: number, bytes: 1 | 2 | 4, signed: boolean): void {
    this.room(bytes);
    this.length = signed ? this.buffer.writeIntLE(value, this.length, bytes) : this.buffer.writeUIntLE(value, this.length, bytes);
  }

  uint64(value: number | bigint): void {
    this.room(8);
    if (typeof value === 'bigint') {
      this.length = this.buffer.writeBigUInt64LE(value, this.length);
      return;
    }
    this.buffer.writeUInt32LE(value % 0x1_0000_0000, this.length);
    this.length = this.buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), this.length + 4);
  }

  int64(value: number | bigint): void {
    this.room(8);
    this.length = this.buffer.writeBigInt64LE(BigInt(value), this.length);
  }

  float32(value: number): void {
    this.room(4);
    this.length = this.buffer.writeFloatLE(value, this.length);
  }

  float64(value: number): void {
    this.room(8);
    this.length = this.buffer.writeDoubleLE(value, this.length);
  }

  strings(values: readonly string[]): void {
    this.varUInt(values.length);
    for (const value of values) this.string(value);
  }
}

/**
 * How a column type is written, what a value left out (undefined: an optional field the
 * event has not) is stored as, and what it cannot hold: `refuse` says why a value does
 * not fit (undefined when it does), as ClickHouse would refuse it in JSONEachRow, so a
 * value is never written wrapped, truncated or as garbage.
 */
interface TypeCodec {
  /** What a value left out is stored as: the type's default, as ClickHouse fills a field a JSONEachRow row omits. */
  omitted: RawRowValue;
  refuse(value: RawRowValue): string | undefined;
  write(writer: RowBinaryWriter, value: RawRowValue): void;
}

const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : Array.isArray(value) ? `an array` : typeof value === 'bigint' ? `${value}` : String(value));

/**
 * An integer column's range check: why it cannot hold a value, if it cannot. A number is
 * held to [min, max + 1) as doubles: both bounds are zero or a power of two, exact,
 * where max itself may not be (2^64 - 1 as a double is 2^64, which the column cannot hold).
 */
function integerRange(min: bigint, max: bigint): (value: RawRowValue) => string | undefined {
  const [numberMin, numberEnd] = [Number(min), Number(max + 1n)];
  return (value) => {
    if (typeof value === 'bigint') return value < min || value > max ? `${value} is out of its range [${min}, ${max}]` : undefined;
    if (typeof value !== 'number') return `${shown(value)} is not a number`;
    if (!Number.isFinite(value)) return `${value} is not a finite number`;
    if (!Number.isInteger(value)) return `${value} is not an integer`;
    return value < numberMin || value >= numberEnd ? `${value} is out of its range [${min}, ${max}]` : undefined;
  };
}

function smallInteger(bytes: 1 | 2 | 4, signed: boolean): TypeCodec {
  const bits = BigInt(bytes * 8);
  const [min, max] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  return { omitted: 0, refuse: integerRange(min, max), write: (w, v) => w.integer(Number(v), bytes, signed) };
}

const float32Max = 3.4028234663852886e38;

function floatRefusal(value: RawRowValue, max: number): string | undefined {
  if (typeof value !== 'number') return `${shown(value)} is not a number`;
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  return Math.abs(value) > max ? `${value} is out of its range [-${max}, ${max}]` : undefined;
}

/** The DateTime range: seconds since the epoch in a UInt32 (1970-01-01 00:00:00 to 2106-02-07 06:28:15 UTC), given in ms. */
const dateTimeMaxMs = 0xffff_ffff * 1000 + 999;

const codecs: Readonly<Record<string, TypeCodec>> = {
  String: { omitted: '', refuse: (v) => (typeof v === 'string' ? undefined : `${shown(v)} is not a string`), write: (w, v) => w.string(v as string) },
  UInt8: smallInteger(1, false),
  UInt16: smallInteger(2, false),
  UInt32: smallInteger(4, false),
  UInt64: { omitted: 0, refuse: integerRange(0n, (1n << 64n) - 1n), write: (w, v) => w.uint64(v as number | bigint) },
  Int8: smallInteger(1, true),
  Int16: smallInteger(2, true),
  Int32: smallInteger(4, true),
  Int64: { omitted: 0, refuse: integerRange(-(1n << 63n), (1n << 63n) - 1n), write: (w, v) => w.int64(v as number | bigint) },
  Float32: { omitted: 0, refuse: (v) => floatRefusal(v, float32Max), write: (w, v) => w.float32(v as number) },
  Float64: { omitted: 0, refuse: (v) => floatRefusal(v, Number.MAX_VALUE), write: (w, v) => w.float64(v as number) },
  DateTime: {
    omitted: 0,
    refuse: (v) => (typeof v !== 'number' || !Number.isFinite(v) ? `${shown(v)} is not a time in ms` : v < 0 || v > dateTimeMaxMs ? `${v} ms is outside the DateTime range (1970-01-01 00:00:00 to 2106-02-07 06:28:15 UTC)` : undefined),
    write: (w, v) => w.integer(Math.floor((v as number) / 1000), 4, false),
  },
  'Array(String)': {
    omitted: [],
    refuse: (v) => (Array.isArray(v) ? v.map((item, i) => (typeof item === 'string' ? undefined : `element ${i}: ${shown(item)} is not a string`)).find(Boolean) : `${shown(v)} is not an array`),
    write: (w, v) => w.strings(v as readonly string[]),
  },
};

/** A column type as the server names it, as the encoder knows it (`DateTime('UTC')` is a DateTime); undefined when it cannot write it. */
export function encodableType(serverType: string): string | undefined {
  const type = serverType.startsWith('DateTime(') ? 'DateTime' : serverType;
  return type in codecs ? type : undefined;
}

/** A value an encoder refused: its column and why, worded for the dead letter. */
export interface Refusal {
  column: string;
  type: string;
  detail: string;
}

/** A column's name and its type as the server names it. */
export interface TypedColumn {
  name: string;
  type: string;
}

/** One column as an encoder writes it: its name, its type on the server, where its value comes from. */
export interface EncodedColumn<S> extends TypedColumn {
  value(source: S): RawRowValue;
}

/** Columns as `name Type, ...` in their order: what an encoder writes for, compared with what the server holds. */
export function structureOf(columns: readonly TypedColumn[]): string {
  return columns.map((c) => `${c.name} ${c.type}`).join(', ');
}

/**
 * A table's rows in RowBinary from sources of type `S`; the INSERT names the columns in
 * the order written. Every value is checked against its column's type before it is
 * written: a row with a value its column cannot hold is not written, and `write` says why.
 */
export class RowBinaryEncoder<S> {
  /** `INSERT INTO <table> (<columns>) FORMAT RowBinary`: the columns' order is the encoder's, not the table's. */
  readonly insertQuery: string;
  /** The columns and the types their bytes are written for: RowBinary carries no types, so the server must hold these. */
  readonly columns: readonly TypedColumn[];
  /** `columns` as `structureOf` gives them, to compare. */
  readonly structure: string;
  private readonly steps: readonly ((writer: RowBinaryWriter, source: S) => Refusal | undefined)[];

  constructor(
    readonly table: string,
    columns: readonly EncodedColumn<S>[],
  ) {
    this.insertQuery = `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) FORMAT RowBinary`;
    this.columns = columns.map(({ name, type }) => ({ name, type }));
    this.structure = structureOf(columns);
    this.steps = columns.map(({ name, type, value }) => {
      const codec = codecs[encodableType(type) ?? ''];
      if (!codec) throw new Error(`${table}.${name} is ${type}, which the RowBinary encoder does not write`);
      return (writer, source) => {
        const given = value(source) as RawRowValue | undefined;
        const v = given === undefined ? codec.omitted : given;
        const why = codec.refuse(v);
        if (why !== undefined) return { column: name, type, detail: `${table}.${name} (${type}) cannot hold the value: ${why}` };
        codec.write(writer, v);
        return undefined;
      };
    });
  }

  /** Writes the row of `source`, or nothing and the first value refused. */
  write(writer: RowBinaryWriter, source: S): Refusal | undefined {
    const start = writer.position;
    for (const step of this.steps) {
      const refusal = step(writer, source);
      if (refusal) {
        writer.truncate(start);
        return refusal;
      }
    }
    return undefined;
  }
}

/**
 * The refusal of a row as the consumer runner classifies ClickHouse's own (permanent:
 * the batch is split down to the event, which is dead-lettered with this detail).
 */
export class RowRefused extends ValidationProblem {
  constructor(readonly refusal: Refusal, what: string) {
    super([{ field: refusal.column, reason: refusal.detail }], `${what} refused before its insert: ${refusal.detail}`);
  }
}

/**
 * One run of a raw table's rows as an INSERT body, encoded as they are added (no object
 * per row), with each row's site and time kept for the repair's doubt if the insert fails.
 */
export class EncodedRows<S> {
  readonly sites: string[] = [];
  readonly observedMs: number[] = [];
  private readonly writer = new RowBinaryWriter();

  constructor(readonly encoder: RowBinaryEncoder<S>) {}

  /** Adds the row of `source`, or refuses it (nothing added) and says why. */
  add(source: S, site: string, observedAt: number): Refusal | undefined {
    const refusal = this.encoder.write(this.writer, source);
    if (refusal) return refusal;
    this.sites.push(site);
    this.observedMs.push(observedAt);
    return undefined;
  }

  get count(): number {
    return this.sites.length;
  }

  get body(): Buffer {
    return this.writer.bytes();
  }
}
