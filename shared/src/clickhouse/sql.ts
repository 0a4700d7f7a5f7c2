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


/** SQL text that is already safe: built by `sql`, `sqlIdentifier` or `sqlJoin`, never by hand. */
export class SqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type SqlValue = string | number | bigint | boolean | SqlFragment | readonly (string | number | bigint)[];

function render(value: SqlValue): string {
  if (value instanceof SqlFragment) return value.text;
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) {
    if (value.length === 0) throw new SqlValueError('an empty list cannot be rendered (IN () is not SQL)');
    return `(${value.map((v) => render(v as string | number | bigint)).join(', ')})`;
  }
  return integerLiteral(value as number | bigint);
}

/**
 * The way queries are written: a template whose every interpolated value is rendered
 * as a literal (strings escaped, integers checked, arrays as tuples for IN), and
 * fragments (from `sql` itself, `sqlIdentifier`, `sqlJoin`) are inserted as they are.
 *
 *   sql`SELECT count() FROM ${sqlIdentifier(table)} WHERE site = ${site} AND lane IN ${lanes}`
 */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): SqlFragment {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += render(value) + (strings[i + 1] ?? '');
  });
  return new SqlFragment(text);
}

export function sqlIdentifier(name: string): SqlFragment {
  return new SqlFragment(identifier(name));
}

export function sqlJoin(fragments: readonly SqlFragment[], separator: string): SqlFragment {
  if (!/^[\s,]*(AND|OR)?[\s,]*$/i.test(separator)) throw new SqlValueError(`'${separator}' is not a separator`);
  return new SqlFragment(fragments.map((f) => f.text).join(separator));
}

/**
 * A materialized view's SELECT as the server records it (`create_table_query` in
 * system.tables: the text our migrations created it with, as 18.16 and current releases
 * print it), reading only the rows of its source table that `filter` keeps. For
 * recomputing an aggregate from raw rows with the view's own definition, never a copy.
 */
export function viewSelectOver(createQuery: string, filter: SqlFragment): SqlFragment {
  const match = /\sAS\s+(SELECT\s[\s\S]*?\sFROM\s+)((?:`?\w+`?\.)?`?\w+`?)(\s[\s\S]*)?$/i.exec(createQuery);
  if (!/^CREATE MATERIALIZED VIEW\s/i.test(createQuery) || !match) throw new SqlValueError(`not a materialized view's query: ${createQuery.slice(0, 80)}`);
  return new SqlFragment(`${match[1]}(SELECT * FROM ${match[2]} WHERE ${filter.text})${match[3] ?? ''}`);
}
