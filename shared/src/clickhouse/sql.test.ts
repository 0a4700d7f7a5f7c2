import { describe, expect, it } from 'vitest';
import { SqlValueError, identifier, integerLiteral, stringLiteral } from './sql.ts';

describe('sql rendering', () => {
  it('accepts plain identifiers only', () => {
    expect(identifier('tower_1')).toBe('tower_1');
    for (const bad of ['', '1abc', 'a-b', 'a;DROP', 'a b', 'x'.repeat(64), '`a`']) {
      expect(() => identifier(bad), bad).toThrow(SqlValueError);
    }
  });

  it('escapes quotes, backslashes and control characters in strings', () => {
    expect(stringLiteral("Bắc Luân II")).toBe("'Bắc Luân II'");
    expect(stringLiteral("it's")).toBe("'it\\'s'");
    expect(stringLiteral('a\\b')).toBe("'a\\\\b'");
    expect(stringLiteral("\\'; DROP TABLE x; --")).toBe("'\\\\\\'; DROP TABLE x; --'");
    expect(stringLiteral('line\nbreak\0')).toBe("'line\\nbreak\\0'");
  });

  it('renders only safe integers', () => {
    expect(integerLiteral(42)).toBe('42');
    expect(integerLiteral(2n ** 63n)).toBe('9223372036854775808');
    expect(() => integerLiteral(1.5)).toThrow(SqlValueError);
    expect(() => integerLiteral(Number.NaN)).toThrow(SqlValueError);
  });
});
