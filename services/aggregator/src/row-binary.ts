import type { ConsumedEvent } from '@tower/shared';
import type { ColumnType, ColumnValue, Derived, Dimensions, RawColumn, RowSource } from './domain/rows.ts';

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

  uint8(value: number): void {
    this.room(1);
    this.length = this.buffer.writeUInt8(value, this.length);
  }

  uint16(value: number): void {
    this.room(2);
    this.length = this.buffer.writeUInt16LE(value, this.length);
  }

  uint32(value: number): void {
    this.room(4);
    this.length = this.buffer.writeUInt32LE(value, this.length);
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

type WriteValue = (writer: RowBinaryWriter, value: ColumnValue) => void;

const writers: Readonly<Record<ColumnType, WriteValue>> = {
  String: (w, v) => w.string(v as string),
  UInt8: (w, v) => w.uint8(v as number),
  UInt16: (w, v) => w.uint16(v as number),
  UInt32: (w, v) => w.uint32(v as number),
  UInt64: (w, v) => w.uint64(v as number | bigint),
  Float32: (w, v) => w.float32(v as number),
  Float64: (w, v) => w.float64(v as number),
  DateTime: (w, v) => w.uint32(Math.floor((v as number) / 1000)),
  'Array(String)': (w, v) => w.strings(v as readonly string[]),
};

/** One table's rows in RowBinary, encoded as they come; the INSERT names the columns in the order written. */
export class RowBinaryEncoder {
  /** `INSERT INTO <table> (<columns>) FORMAT RowBinary`: the columns' order is the encoder's, not the table's. */
  readonly insertQuery: string;
  private readonly steps: readonly ((writer: RowBinaryWriter, source: RowSource) => void)[];

  constructor(table: string, columns: readonly RawColumn[]) {
    this.insertQuery = `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) FORMAT RowBinary`;
    this.steps = columns.map(({ type, value }) => {
      const write = writers[type];
      return (writer, source) => write(writer, value(source));
    });
  }

  write(writer: RowBinaryWriter, source: RowSource): void {
    for (const step of this.steps) step(writer, source);
  }
}

/**
 * One run of a raw table's rows as an INSERT body, encoded as the pipeline derives them
 * (one reused source, no object per row), with the events kept for the repair's doubt.
 */
export class EncodedRows {
  readonly events: ConsumedEvent[] = [];
  private readonly writer = new RowBinaryWriter();
  private source?: RowSource;

  constructor(private readonly encoder: RowBinaryEncoder) {}

  add(consumed: ConsumedEvent, dimensions: Dimensions, derived: Derived): void {
    const source = (this.source ??= { consumed, dimensions, derived });
    source.consumed = consumed;
    source.dimensions = dimensions;
    source.derived = derived;
    this.encoder.write(this.writer, source);
    this.events.push(consumed);
  }

  get body(): Buffer {
    return this.writer.bytes();
  }
}
