/**
 * ClickHouse's own figures in the Prometheus text format, named as current ClickHouse's
 * built-in endpoint names them (src/Server/PrometheusMetricsWriter.cpp), so one
 * dashboard reads 18.16 through this exporter and a current server directly:
 *   system.metrics               → `ClickHouseMetrics_<name>`       gauge
 *   system.events                → `ClickHouseProfileEvents_<name>` counter (no `_total`: the server has none)
 *   system.asynchronous_metrics  → `ClickHouseAsyncMetrics_<name>`  gauge
 */

export type ServerFigureKind = 'metric' | 'event' | 'async';

/** One row of a system table as read, before naming. */
export interface ServerFigure {
  kind: ServerFigureKind;
  /** The server's own name: `Query`, `MemoryTracking`, `jemalloc.allocated`. */
  name: string;
  value: number;
  /** The server's description ('' where it has none: 18.16's asynchronous metrics). */
  help: string;
}

const families: Record<ServerFigureKind, { prefix: string; type: 'gauge' | 'counter' }> = {
  metric: { prefix: 'ClickHouseMetrics_', type: 'gauge' },
  event: { prefix: 'ClickHouseProfileEvents_', type: 'counter' },
  async: { prefix: 'ClickHouseAsyncMetrics_', type: 'gauge' },
};

/**
 * The server's rule: every character outside `[a-zA-Z0-9_:]` becomes `_`, then leading
 * characters that are not letters go; nothing left means no metric. For metrics and
 * events the rule applies to the name before the prefix, for asynchronous metrics to
 * the prefixed name (as the server does: a leading digit or `_` of an asynchronous
 * metric's name stays). What is left always passes Prometheus's name rule.
 */
export function sanitizedName(name: string): string | undefined {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/^[^a-zA-Z]*/, '');
  return cleaned === '' ? undefined : cleaned;
}

/** The metric's name, or undefined where the server's rule leaves nothing. */
export function prometheusName({ kind, name }: Pick<ServerFigure, 'kind' | 'name'>): string | undefined {
  const { prefix } = families[kind];
  if (kind === 'async') return sanitizedName(`${prefix}${name}`);
  const sanitized = sanitizedName(name);
  return sanitized === undefined ? undefined : `${prefix}${sanitized}`;
}

/** HELP text per the text format: one line, backslashes and newlines escaped. */
const escapedHelp = (help: string) => help.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n');

const sampleValue = (value: number) => (Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value));

/**
 * The figures as Prometheus text, one family each (HELP, TYPE, sample). Figures whose
 * names cannot be made valid are left out; when two server names sanitize to the same
 * metric only the first is kept (a repeated family would fail the whole scrape).
 */
export function renderServerFigures(figures: readonly ServerFigure[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const figure of figures) {
    const name = prometheusName(figure);
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    const help = figure.help.trim() === '' ? `ClickHouse ${figure.kind === 'async' ? 'asynchronous metric' : figure.kind === 'event' ? 'profile event' : 'metric'} ${figure.name}` : figure.help;
    lines.push(`# HELP ${name} ${escapedHelp(help)}`, `# TYPE ${name} ${families[figure.kind].type}`, `${name} ${sampleValue(figure.value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
