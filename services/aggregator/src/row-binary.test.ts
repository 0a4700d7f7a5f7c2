import { describe, expect, it } from 'vitest';
import { RowBinaryWriter } from './row-binary.ts';

/** RowBinary's String as the format defines it: LEB128 byte length, then the UTF-8 bytes. */
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

describe('RowBinaryWriter', () => {
  it('writes every string length around the one-byte length (ASCII, Vietnamese, Chinese, emoji) as LEB128 length and UTF-8 bytes, growing its buffer', () => {
    for (const unit of ['a', 'ờ', '雾', '🚚']) {
      for (let count = 0; count < 200; count += 1) {
        const value = unit.repeat(count);
        const writer = new RowBinaryWriter(8);
        writer.string(value);
        expect(writer.bytes(), `${count} × ${unit}`).toEqual(expectedString(value));
      }
    }
  });

  it('writes UInt64 from a number past 2^32 and from a bigint past 2^53, little-endian', () => {
    const writer = new RowBinaryWriter(4);
    writer.uint64(1_800_000_000_123);
    writer.uint64(2n ** 60n + 7n);
    const bytes = writer.bytes();
    expect(bytes.readBigUInt64LE(0)).toBe(1_800_000_000_123n);
    expect(bytes.readBigUInt64LE(8)).toBe(2n ** 60n + 7n);
  });
});
