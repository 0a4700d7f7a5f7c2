import { describe, expect, it } from 'vitest';
import type { ColumnValue } from './domain/rows.ts';
import { BinaryWriter, EncodedRows, NativeEncoder } from './native-block.ts';

/** ClickHouse's binary String as the format defines it: LEB128 byte length, then the UTF-8 bytes. */
function expectedString(value: string): Buffer {
  const text = Buffer.from(value, 'utf8');
  const length: number[] = [];
  let n = text.length;
  do {
    length.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from(length), text]);
}

describe('BinaryWriter', () => {
  it('writes every string length around the one-byte length (ASCII, Vietnamese, Chinese, emoji) as LEB128 length and UTF-8 bytes, growing its buffer', () => {
    for (const unit of ['a', 'ờ', '雾', '🚚']) {
      for (let count = 0; count < 200; count += 1) {
        const value = unit.repeat(count);
        const writer = new BinaryWriter(8);
        writer.string(value);
        expect(writer.bytes(), `${count} × ${unit}`).toEqual(expectedString(value));
      }
    }
  });

  it('writes UInt64 from a number past 2^32 and from a bigint past 2^53, little-endian', () => {
    const writer = new BinaryWriter(4);
    writer.uint64(1_800_000_000_123);
    writer.uint64(2n ** 60n + 7n);
    const bytes = writer.bytes();
    expect(bytes.readBigUInt64LE(0)).toBe(1_800_000_000_123n);
    expect(bytes.readBigUInt64LE(8)).toBe(2n ** 60n + 7n);
  });
});

/** A Native block's start: its column and row counts (one byte each here), then the column's name and type. */
const blockHead = (rows: number, columns: [string, string][]) => Buffer.concat([Buffer.from([columns.length, rows]), ...columns.flatMap(([name, type]) => [expectedString(name), expectedString(type)])]);

/** The Native block of one column `c` of `type`, holding `values` (hex): what the encoder must write. */
const oneColumnBlock = (type: string, hex: string) => Buffer.concat([blockHead(1, [['c', type]]), Buffer.from(hex, 'hex')]).toString('hex');

/** One column of `type` fed `value`: what the encoder answers, and the bytes it wrote around it. */
function encodeOne(type: string, value: unknown) {
  const encoder = new NativeEncoder<{ v: unknown }>('container_events', [{ name: 'c', type, value: (s) => s.v as ColumnValue }]);
  const rows = new EncodedRows(encoder);
  return { refusal: rows.add({ v: value }, 'van-ninh', 0), rows };
}

describe('NativeEncoder refuses a value its column cannot hold, per row, as ClickHouse would', () => {
  const refused: [string, string, unknown, RegExp][] = [
    ['an integer below an unsigned range (a negative size_ft)', 'UInt8', -20, /container_events\.c \(UInt8\) cannot hold the value: -20 is out of its range \[0, 255\]/],
    ['an integer above UInt8', 'UInt8', 256, /256 is out of its range \[0, 255\]/],
    ['an integer above UInt16', 'UInt16', 65_536, /65536 is out of its range \[0, 65535\]/],
    ['an integer above UInt32', 'UInt32', 2 ** 32, /4294967296 is out of its range \[0, 4294967295\]/],
    ['a negative UInt64', 'UInt64', -1, /-1 is out of its range \[0, 18446744073709551615\]/],
    ['a bigint above UInt64', 'UInt64', 2n ** 64n, /18446744073709551616 is out of its range/],
    ['a number at 2^64 into UInt64 (2^64 - 1 is no double: the bound rounds up to it)', 'UInt64', 2 ** 64, /18446744073709552000 is out of its range \[0, 18446744073709551615\]/],
    ['a number at 2^63 into Int64', 'Int64', 2 ** 63, /9223372036854776000 is out of its range \[-9223372036854775808, 9223372036854775807\]/],
    ['a number below -2^63 into Int64', 'Int64', -(2 ** 63) - 4096, /is out of its range \[-9223372036854775808/],
    ['an integer outside a signed range (a column altered to Int16)', 'Int16', 40_000, /40000 is out of its range \[-32768, 32767\]/],
    ['a fraction into an integer column', 'UInt8', 20.5, /20\.5 is not an integer/],
    ['NaN into an integer column', 'UInt32', Number.NaN, /NaN is not a finite number/],
    ['NaN into Float32', 'Float32', Number.NaN, /NaN is not a finite number/],
    ['+Infinity into Float64', 'Float64', Number.POSITIVE_INFINITY, /Infinity is not a finite number/],
    ['-Infinity into Float32', 'Float32', Number.NEGATIVE_INFINITY, /-Infinity is not a finite number/],
    ['a number beyond Float32', 'Float32', 1e39, /1e\+39 is out of its range/],
    ['a time before 1970 into DateTime', 'DateTime', -1, /-1 ms is outside the DateTime range/],
    ['a time after 2106-02-07 06:28:15 into DateTime', 'DateTime', Date.UTC(2106, 1, 7, 6, 28, 16), /outside the DateTime range/],
    ['null into String', 'String', null, /null is not a string/],
    ['null into a number column (NaN as JSON)', 'Float32', null, /null is not a number/],
    ['a number into String', 'String', 7, /7 is not a string/],
    ['a non-string element into Array(String)', 'Array(String)', ['MSKU1234565', 7], /element 1: 7 is not a string/],
    ['a string into Array(String)', 'Array(String)', 'MSKU1234565', /"MSKU1234565" is not an array/],
    ['a string into a number column', 'UInt32', '12', /"12" is not a number/],
  ];
  for (const [what, type, value, detail] of refused) {
    it(`refuses ${what}, writing nothing of the row`, () => {
      const { refusal, rows } = encodeOne(type, value);
      expect(refusal?.detail).toMatch(detail);
      expect(refusal?.column).toBe('c');
      expect(rows.count).toBe(0);
      expect(rows.body).toHaveLength(0);
    });
  }

  it('stores a value left out (an optional field the event has not) as its type\'s default, as ClickHouse fills a field a JSONEachRow row omits', () => {
    // An empty array is its running total of elements (UInt64 0) and no elements.
    const omitted: [string, string][] = [['String', '00'], ['UInt8', '00'], ['Float32', '00000000'], ['UInt64', '0000000000000000'], ['DateTime', '00000000'], ['Array(String)', '0000000000000000']];
    for (const [type, hex] of omitted) {
      const { refusal, rows } = encodeOne(type, undefined);
      expect(refusal, type).toBeUndefined();
      expect(rows.body.toString('hex'), type).toBe(oneColumnBlock(type, hex));
    }
  });

  it('takes the edges of every range', () => {
    const taken: [string, unknown, string][] = [
      ['UInt8', 255, 'ff'],
      ['UInt8', 0, '00'],
      ['UInt16', 65_535, 'ffff'],
      ['UInt32', 2 ** 32 - 1, 'ffffffff'],
      ['UInt64', 2n ** 64n - 1n, 'ffffffffffffffff'],
      ['UInt64', 2 ** 64 - 2048, '00f8ffffffffffff'],
      ['Int64', -(2 ** 63), '0000000000000080'],
      ['Int64', 2 ** 63 - 1024, '00fcffffffffff7f'],
      ['Int16', -32_768, '0080'],
      ['DateTime', 0, '00000000'],
      ['DateTime', 0xffff_ffff * 1000 + 999, 'ffffffff'],
      ['Float32', -3.4028234663852886e38, 'ffff7fff'],
    ];
    for (const [type, value, hex] of taken) {
      const { refusal, rows } = encodeOne(type, value);
      expect(refusal, `${type} ${String(value)}`).toBeUndefined();
      expect(rows.body.toString('hex'), `${type} ${String(value)}`).toBe(oneColumnBlock(type, hex));
    }
  });

  it('drops a refused row whole (its earlier columns too) and writes the next row where it would have been', () => {
    const encoder = new NativeEncoder<{ id: string; size: number }>('container_events', [
      { name: 'event_id', type: 'String', value: (s) => s.id },
      { name: 'size_ft', type: 'UInt8', value: (s) => s.size },
    ]);
    const rows = new EncodedRows(encoder);
    expect(rows.add({ id: 'good-1', size: 40 }, 'van-ninh', 1)).toBeUndefined();
    expect(rows.add({ id: 'poison', size: -20 }, 'van-ninh', 2)?.detail).toMatch(/size_ft \(UInt8\) cannot hold the value: -20/);
    expect(rows.add({ id: 'good-2', size: 20 }, 'mong-cai', 3)).toBeUndefined();
    // Column by column: both event ids, then both sizes.
    expect(rows.body).toEqual(Buffer.concat([Buffer.from([2, 2]), expectedString('event_id'), expectedString('String'), expectedString('good-1'), expectedString('good-2'), expectedString('size_ft'), expectedString('UInt8'), Buffer.from([40, 20])]));
    expect([rows.count, rows.sites, rows.observedMs]).toEqual([2, ['van-ninh', 'mong-cai'], [1, 3]]);
  });

  it('writes an Array column as each row\'s running total of elements (UInt64), then every element, after the other columns\' values', () => {
    const encoder = new NativeEncoder<{ seals: string[]; kg: number }>('truck_events', [
      { name: 'seals', type: 'Array(String)', value: (s) => s.seals },
      { name: 'gross_kg', type: 'UInt32', value: (s) => s.kg },
    ]);
    const rows = new EncodedRows(encoder);
    for (const [seals, kg] of [[['SL-1', 'SL-2'], 1], [[], 2], [['封-3'], 3]] as const) expect(rows.add({ seals: [...seals], kg }, 'bac-luan-2', kg)).toBeUndefined();
    const totals = Buffer.alloc(24);
    [2, 2, 3].forEach((total, i) => totals.writeBigUInt64LE(BigInt(total), 8 * i));
    const weights = Buffer.alloc(12);
    [1, 2, 3].forEach((kg, i) => weights.writeUInt32LE(kg, 4 * i));
    expect(rows.body).toEqual(Buffer.concat([Buffer.from([2, 3]), expectedString('seals'), expectedString('Array(String)'), totals, ...['SL-1', 'SL-2', '封-3'].map(expectedString), expectedString('gross_kg'), expectedString('UInt32'), weights]));
  });

  it('writes no block for no rows', () => {
    expect(new EncodedRows(new NativeEncoder('truck_events', [{ name: 'c', type: 'UInt8', value: () => 1 }])).body).toHaveLength(0);
  });

  it('will not build an encoder for a column type it cannot write (an Enum, a FixedString): no guessed bytes', () => {
    expect(() => new NativeEncoder('container_events', [{ name: 'c', type: "Enum8('a' = 1)", value: () => 'a' }])).toThrow(/container_events\.c is Enum8\('a' = 1\), which the Native encoder does not write/);
    expect(() => new NativeEncoder('container_events', [{ name: 'c', type: 'FixedString(4)', value: () => 'a' }])).toThrow(/does not write/);
  });
});
