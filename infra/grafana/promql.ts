/**
 * The metric selectors a PromQL expression reads, found by a small tokenizer rather
 * than a full parser: it skips strings, numbers and durations, range and subquery
 * brackets, functions and aggregations (a name followed by `(`), keywords, the label
 * lists after `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`, and Grafana's
 * `$variables`. What is left is a metric name; its `{…}` matchers give the labels it
 * filters on. A name followed by `(` that is no PromQL function is an error, so a typo
 * in a function cannot pass for a metric that is then "missing".
 */

export interface Selector {
  /** The metric name (a recording rule's name holds colons). */
  name: string;
  /** Label names the selector's matchers use (not their values). */
  labels: string[];
}

const functions = new Set([
  // Aggregation operators.
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  // Functions (Prometheus 2.42 and current).
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max',
  'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv',
  'double_exponential_smoothing', 'end', 'exp', 'floor', 'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile',
  'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace',
  'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi', 'predict_linear',
  'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_by_label',
  'sort_by_label_desc', 'sort_desc', 'sqrt', 'start', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time',
  'timestamp', 'vector', 'year',
]);

/** Keywords whose following parenthesised list holds label names, not expressions. */
const labelListKeywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const keywords = new Set([...labelListKeywords, 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);

/** The index just past the bracket that closes the one at `open` (strings inside skipped). */
function closing(expr: string, open: number): number {
  const pair: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const close = pair[expr[open]!]!;
  let depth = 0;
  for (let i = open; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = stringEnd(expr, i) - 1;
    else if (c === expr[open]) depth++;
    else if (c === close && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${expr[open]} at ${open} in ${expr}`);
}

/** The index just past the string literal that starts at `start`. */
function stringEnd(expr: string, start: number): number {
  const quote = expr[start]!;
  for (let i = start + 1; i < expr.length; i++) {
    if (expr[i] === '\\' && quote !== '`') i++;
    else if (expr[i] === quote) return i + 1;
  }
  throw new Error(`unterminated string at ${start} in ${expr}`);
}

/** The label names of a `{…}` matcher list (its inside, braces excluded), and a `__name__="x"` matcher's metric. */
function matchers(inside: string): { labels: string[]; name: string | undefined } {
  const found = [...inside.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g)];
  const name = found.find((m) => m[1] === '__name__' && m[2] === '=')?.[3]?.slice(1, -1);
  return { labels: found.map((m) => m[1]!).filter((l) => l !== '__name__'), name };
}

const identifier = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const number = /0x[0-9a-fA-F]+|(?:[0-9]+(?:ms|[smhdwy]))+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/y;
const variable = /\$(?:\{[^}]*\}|\w+)/y;

/** Every metric selector `expr` reads, in order of appearance. */
export function selectors(expr: string): Selector[] {
  const found: Selector[] = [];
  let i = 0;
  let depth = 0;
  const at = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    return re.exec(expr)?.[0];
  };
  const nextNonSpace = (from: number): number => {
    let j = from;
    while (/\s/.test(expr[j] ?? '')) j++;
    return j;
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'" || c === '`') i = stringEnd(expr, i);
    else if (c === '#') i = expr.includes('\n', i) ? expr.indexOf('\n', i) : expr.length;
    else if (c === '[') i = closing(expr, i);
    else if (c === '{') {
      const end = closing(expr, i);
      const { labels, name } = matchers(expr.slice(i + 1, end - 1));
      if (name === undefined) throw new Error(`a selector without a metric name at ${i} in ${expr}`);
      found.push({ name, labels });
      i = end;
    } else if (c === '$') i += at(variable)?.length ?? 1;
    else if (/[0-9.]/.test(c) && at(number)) i += at(number)!.length;
    else if (at(identifier)) {
      const word = at(identifier)!;
      i += word.length;
      const next = nextNonSpace(i);
      if (labelListKeywords.has(word)) {
        if (expr[next] === '(') i = closing(expr, next);
      } else if (keywords.has(word.toLowerCase())) {
        // An operator or literal: nothing to read.
      } else if (expr[next] === '(') {
        if (!functions.has(word)) throw new Error(`${word}( is not a PromQL function, in ${expr}`);
      } else if (functions.has(word) && /^(by|without)\b/.test(expr.slice(next))) {
        // An aggregation with its grouping first: `sum by (le) (…)`.
      } else if (expr[next] === '{') {
        const end = closing(expr, next);
        found.push({ name: word, labels: matchers(expr.slice(next + 1, end - 1)).labels });
        i = end;
      } else found.push({ name: word, labels: [] });
    } else {
      depth += c === '(' ? 1 : c === ')' ? -1 : 0;
      if (depth < 0) throw new Error(`unbalanced ) at ${i} in ${expr}`);
      i++;
    }
  }
  if (depth !== 0) throw new Error(`unbalanced ( in ${expr}`);
  return found;
}
