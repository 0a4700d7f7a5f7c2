/**
 * The load generator's own figures in the Prometheus text format (0.0.4): served while
 * a run goes (`--prometheus-port`), and written at the end as `metrics.prom` in the
 * run's results folder (node-exporter's textfile collector reads that format).
 * Counters are the run's so far; a latency summary's quantiles are the latest
 * 10-second period's while it runs and the whole run's at the end, its _count and _sum
 * the run's so far.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ArtilleryPeriod, Summary } from './figures.ts';
import { customMetric } from './run-context.ts';

const endpointPrefix = 'plugins.metrics-by-endpoint.response_time.';

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  lines: string[];
}

const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
};
const number = (value: number) => (Number.isFinite(value) ? String(Math.round(value * 1e6) / 1e6) : 'NaN');

/** What the exposition is made from: the run's periods so far (every part's), and the whole run's aggregate once Artillery is done. */
export interface LoadSnapshot {
  scenario: string;
  runId: string;
  periods: readonly ArtilleryPeriod[];
  final?: ArtilleryPeriod;
}

function counterSum(snapshot: LoadSnapshot, match: (name: string) => boolean): number {
  const sources = snapshot.final ? [snapshot.final] : snapshot.periods;
  return sources.reduce((sum, p) => sum + Object.entries(p.counters).filter(([name]) => match(name)).reduce((s, [, v]) => s + v, 0), 0);
}

/** A summary of one Artillery measure (milliseconds) in seconds: quantiles of the whole run or the latest period, count and sum of the run so far. */
function summaryLines(snapshot: LoadSnapshot, measure: string, name: string, labels: Record<string, string>): string[] {
  let quantiles: Summary | undefined = snapshot.final?.summaries[measure];
  let count = quantiles?.count ?? 0;
  let sum = quantiles ? quantiles.mean * quantiles.count : 0;
  if (!snapshot.final) {
    const seen = snapshot.periods.filter((p) => p.summaries[measure]).sort((a, b) => Number(a.period) - Number(b.period));
    quantiles = seen.at(-1)?.summaries[measure];
    count = seen.reduce((c, p) => c + (p.summaries[measure]?.count ?? 0), 0);
    sum = seen.reduce((s, p) => s + (p.summaries[measure]?.mean ?? 0) * (p.summaries[measure]?.count ?? 0), 0);
  }
  if (!quantiles) return [];
  return [
    ...([['p50', '0.5'], ['p95', '0.95'], ['p99', '0.99']] as const).map(([stat, quantile]) => `${name}${labelText({ ...labels, quantile })} ${number(quantiles[stat] / 1000)}`),
    `${name}_sum${labelText(labels)} ${number(sum / 1000)}`,
    `${name}_count${labelText(labels)} ${number(count)}`,
  ];
}

export function exposition(snapshot: LoadSnapshot): string {
  const run = { scenario: snapshot.scenario, run: snapshot.runId };
  const counter = (name: string, help: string, match: (n: string) => boolean): Family => ({ name, help, type: 'counter', lines: [`${name}${labelText(run)} ${number(counterSum(snapshot, match))}`] });
  const measures = [...new Set([...(snapshot.final ? [snapshot.final] : snapshot.periods).flatMap((p) => Object.keys(p.summaries))])];
  const paths = measures.filter((m) => m.startsWith(endpointPrefix)).sort();
  const codes = [...new Set((snapshot.final ? [snapshot.final] : snapshot.periods).flatMap((p) => Object.keys(p.counters)).filter((n) => /^http\.codes\.\d+$/.test(n)))].sort();
  const families: Family[] = [
    { name: 'tower_load_running', help: 'Whether the run is still going (1) or done (0).', type: 'gauge', lines: [`tower_load_running${labelText(run)} ${snapshot.final ? 0 : 1}`] },
    counter('tower_load_requests_total', 'HTTP requests sent.', (n) => n === 'http.requests'),
    { name: 'tower_load_responses_total', help: 'HTTP answers by status code.', type: 'counter', lines: codes.map((c) => `tower_load_responses_total${labelText({ ...run, code: c.slice('http.codes.'.length) })} ${number(counterSum(snapshot, (n) => n === c))}`) },
    counter('tower_load_errors_total', 'Answers not 2xx and requests that failed (timeouts, refused connections).', (n) => (/^http\.codes\.\d+$/.test(n) && !/^http\.codes\.2/.test(n)) || n.startsWith('errors.')),
    { name: 'tower_load_response_time_seconds', help: 'Response time by path (the request name); quantiles of the latest 10-second period while running, of the whole run at the end.', type: 'summary', lines: paths.flatMap((m) => summaryLines(snapshot, m, 'tower_load_response_time_seconds', { ...run, path: m.slice(endpointPrefix.length) })) },
    { name: 'tower_load_live_freshness_seconds', help: 'Now minus the newest ingested event of a live throughput tick, at the wall clients.', type: 'summary', lines: summaryLines(snapshot, customMetric.freshnessMs, 'tower_load_live_freshness_seconds', run) },
    { name: 'tower_load_live_snapshot_seconds', help: 'Time from subscribing to the live feed to its snapshot.', type: 'summary', lines: summaryLines(snapshot, customMetric.snapshotMs, 'tower_load_live_snapshot_seconds', run) },
    counter('tower_load_arrivals_total', 'Virtual users (arrivals) started.', (n) => n === 'vusers.created'),
    counter('tower_load_arrivals_dropped_total', 'Arrivals not started because the phase had its most virtual users at once (maxVusers).', (n) => n === 'vusers.skipped'),
    counter('tower_load_arrivals_failed_total', 'Virtual users that ended on an error.', (n) => n === 'vusers.failed'),
    counter('tower_load_events_sent_total', 'Events sent by the simulated devices.', (n) => n === customMetric.eventsSent),
    counter('tower_load_events_accepted_total', 'Events the ingest API acknowledged.', (n) => n === customMetric.eventsAccepted),
    counter('tower_load_events_rejected_total', 'Events the ingest API rejected.', (n) => n === customMetric.eventsRejected),
  ];
  return families
    .filter((f) => f.lines.length > 0)
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n'))
    .join('\n')
    .concat('\n');
}

/** Serves `/metrics` (the exposition of `snapshot()` at each scrape) on the port; resolves once listening, with the port and the close function. */
export async function servePrometheus(port: number, host: string, snapshot: () => LoadSnapshot): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(exposition(snapshot()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
