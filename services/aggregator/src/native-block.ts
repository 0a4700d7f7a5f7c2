import { ValidationProblem } from '@tower/shared';
import type { ColumnValue as RawRowValue } from './domain/rows.ts';

/**
 * Bytes in ClickHouse's binary encodings, as Native blocks hold them (the same bytes on
 * 18.16 and current versions): little-endian numbers, a DateTime as UInt32 seconds, a
 * String as its UTF-8 length (LEB128) and bytes.
 */
export class BinaryWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 4 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  varUInt(value: number): void {
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
  write(column: ColumnData, value: RawRowValue): void;
}

/**
 * One column's values of a block as Native writes them: the values' bytes, and for an
 * Array column each row's running total of elements (its offsets, written before the
 * elements).
 */
export class ColumnData {
  readonly data = new BinaryWriter();
  readonly offsets: number[] = [];
  private elements = 0;

  /** An Array row of `count` elements, written to `data` by the caller. */
  arrayOf(count: number): void {
    this.elements += count;
    this.offsets.push(this.elements);
  }
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
  return { omitted: 0, refuse: integerRange(min, max), write: (c, v) => c.data.integer(Number(v), bytes, signed) };
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
  String: { omitted: '', refuse: (v) => (typeof v === 'string' ? undefined : `${shown(v)} is not a string`), write: (c, v) => c.data.string(v as string) },
  UInt8: smallInteger(1, false),
  UInt16: smallInteger(2, false),
  UInt32: smallInteger(4, false),
  UInt64: { omitted: 0, refuse: integerRange(0n, (1n << 64n) - 1n), write: (c, v) => c.data.uint64(v as number | bigint) },
  Int8: smallInteger(1, true),
  Int16: smallInteger(2, true),
  Int32: smallInteger(4, true),
  Int64: { omitted: 0, refuse: integerRange(-(1n << 63n), (1n << 63n) - 1n), write: (c, v) => c.data.int64(v as number | bigint) },
  Float32: { omitted: 0, refuse: (v) => floatRefusal(v, float32Max), write: (c, v) => c.data.float32(v as number) },
  Float64: { omitted: 0, refuse: (v) => floatRefusal(v, Number.MAX_VALUE), write: (c, v) => c.data.float64(v as number) },
  DateTime: {
    omitted: 0,
    refuse: (v) => (typeof v !== 'number' || !Number.isFinite(v) ? `${shown(v)} is not a time in ms` : v < 0 || v > dateTimeMaxMs ? `${v} ms is outside the DateTime range (1970-01-01 00:00:00 to 2106-02-07 06:28:15 UTC)` : undefined),
    write: (c, v) => c.data.integer(Math.floor((v as number) / 1000), 4, false),
  },
  'Array(String)': {
    omitted: [],
    refuse: (v) => (Array.isArray(v) ? v.map((item, i) => (typeof item === 'string' ? undefined : `element ${i}: ${shown(item)} is not a string`)).find(Boolean) : `${shown(v)} is not an array`),
    write: (c, v) => {
      const items = v as readonly string[];
      c.arrayOf(items.length);
      for (const item of items) c.data.string(item);
    },
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
 * A table's rows as Native blocks from sources of type `S`; the INSERT names the columns
 * in the order written. Native carries each column's name and type, so a server that
 * holds another type for a column (an ALTER since the encoder was made) refuses the
 * block (18.16: Bad cast; current versions: TYPE_MISMATCH, with
 * `input_format_native_allow_types_conversion` off) instead of misreading its bytes.
 * Every value is checked against its column's type before it is written: a row with a
 * value its column cannot hold is not written, and `check` says why.
 */
export class NativeEncoder<S> {
  /** `INSERT INTO <table> (<columns>) FORMAT Native`. */
  readonly insertQuery: string;
  /** The columns and the types their bytes are written for, named in each block. */
  readonly columns: readonly TypedColumn[];
  /** `columns` as `structureOf` gives them, to compare. */
  readonly structure: string;
  private readonly codecs: readonly { name: string; type: string; codec: TypeCodec; value: (source: S) => RawRowValue }[];

  constructor(
    readonly table: string,
    columns: readonly EncodedColumn<S>[],
  ) {
    this.insertQuery = `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) FORMAT Native`;
    this.columns = columns.map(({ name, type }) => ({ name, type }));
    this.structure = structureOf(columns);
    this.codecs = columns.map(({ name, type, value }) => {
      const codec = codecs[encodableType(type) ?? ''];
      if (!codec) throw new Error(`${table}.${name} is ${type}, which the Native encoder does not write`);
      return { name, type, codec, value };
    });
  }

  /** One array for the row being checked (per event: no allocation); valid until the next `check`. */
  private readonly row: RawRowValue[] = [];

  /** The row of `source`, one value per column (in an array reused by the next call), or the first value refused. */
  check(source: S): readonly RawRowValue[] | Refusal {
    for (let i = 0; i < this.codecs.length; i += 1) {
      const { name, type, codec, value } = this.codecs[i]!;
      const given = value(source) as RawRowValue | undefined;
      const v = given === undefined ? codec.omitted : given;
      const why = codec.refuse(v);
      if (why !== undefined) return { column: name, type, detail: `${this.table}.${name} (${type}) cannot hold the value: ${why}` };
      this.row[i] = v;
    }
    return this.row;
  }

  /** Writes a checked row's values, one to each column. */
  write(columns: readonly ColumnData[], values: readonly RawRowValue[]): void {
    this.codecs.forEach(({ codec }, i) => codec.write(columns[i]!, values[i]!));
  }

  /** A Native block of `rows` rows from the columns' data: the counts, then each column's name, type, offsets and values. */
  block(columns: readonly ColumnData[], rows: number): Buffer {
    const header = new BinaryWriter(64);
    header.varUInt(this.codecs.length);
    header.varUInt(rows);
    const parts: Buffer[] = [Buffer.from(header.bytes())];
    this.codecs.forEach(({ name, type }, i) => {
      const column = columns[i]!;
      const described = new BinaryWriter(64);
      described.string(name);
      described.string(type);
      for (const offset of column.offsets) described.uint64(offset);
      parts.push(Buffer.from(described.bytes()), column.data.bytes());
    });
    return Buffer.concat(parts);
  }

  columnData(): ColumnData[] {
    return this.codecs.map(() => new ColumnData());
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
 * One run of a raw table's rows as a Native block, encoded column by column as they are
 * added (no object per row), with each row's site and time kept for the repair's doubt if
 * the insert fails.
 */
export class EncodedRows<S> {
  readonly sites: string[] = [];
  readonly observedMs: number[] = [];
  private readonly columns: ColumnData[];

  constructor(readonly encoder: NativeEncoder<S>) {
    this.columns = encoder.columnData();
  }

  /** Adds the row of `source`, or refuses it (nothing added) and says why. */
  add(source: S, site: string, observedAt: number): Refusal | undefined {
    const values = this.encoder.check(source);
    if ('detail' in values) return values;
    this.encoder.write(this.columns, values);
    this.sites.push(site);
    this.observedMs.push(observedAt);
    return undefined;
  }

  get count(): number {
    return this.sites.length;
  }

  /** The rows as one Native block (empty when there are none). */
  get body(): Buffer {
    return this.count === 0 ? Buffer.alloc(0) : this.encoder.block(this.columns, this.count);
  }
}
