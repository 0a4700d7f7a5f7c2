/**
 * The one module that turns values into SQL text. ClickHouse 18.16 has no server-side
 * query parameters, so every value that reaches a query passes through a renderer
 * here: identifiers are checked against a strict pattern, strings are escaped,
 * numbers must be finite integers. No other code concatenates SQL.
 */

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class SqlValueError extends Error {}

/** A database, table or column name; never quoted, so it must be plain. */
export function identifier(name: string): string {
  if (!identifierPattern.test(name)) throw new SqlValueError(`'${name}' is not a plain SQL identifier`);
  return name;
}

/** A string literal, with ClickHouse's escapes. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

export function integerLiteral(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isSafeInteger(value)) throw new SqlValueError(`${value} is not a safe integer`);
  return String(value);
}

