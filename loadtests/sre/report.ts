/**
 * The run's report: summary.md (load shape, each SLO with its value and verdict, the
 * server-side figures) and report.html, self-contained (inline SVG, no script), from
 * Artillery's JSON and the sampled /metrics.
 */
import type { ArtilleryPeriod, Figures, Verdict } from './figures.ts';
import { course, type ServiceSeries } from './server-metrics.ts';

export interface RunRecord {
  scenario: string;
  purpose: string;
  shape: string;
  command: string;
  target: { name: string; source: string; ingest: string; live: string; slots: string };
  sharesMachine: boolean;
  machine: string;
  startedAt: number;
  endedAt: number;
  figures: Figures;
  verdicts: Verdict[];
  /** Per part, Artillery's 10-second periods. */
  periods: Record<string, ArtilleryPeriod[]>;
  servers: ServiceSeries[];
  notes: string[];
}

const serverFigures: { key: string; label: string }[] = [
  { key: 'eventLoopLagP99Ms', label: 'event-loop lag p99 (ms)' },
  { key: 'rssMiB', label: 'RSS (MiB)' },
  { key: 'heapUsedMiB', label: 'heap used (MiB)' },
  { key: 'consumerLag', label: 'consumer lag (messages)' },
  { key: 'liveConnections', label: 'live sockets' },
  { key: 'liveQueuedKiB', label: 'bytes queued for live clients (KiB)' },
  { key: 'kafkaAckMeanMs', label: 'Kafka ack, mean per 5 s (ms)' },
  { key: 'insertMeanMs', label: 'ClickHouse insert, mean per 5 s (ms)' },
];

const fmt = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : Number.isInteger(value) ? value.toLocaleString('en') : value.toLocaleString('en', { maximumFractionDigits: 1 }));

export function passed(record: RunRecord): boolean {
  return record.verdicts.every((v) => v.pass);
}

export function summaryMarkdown(record: RunRecord): string {
  const lines = [
    `# Load test \`${record.scenario}\`: ${passed(record) ? 'PASS' : `FAIL (${record.verdicts.filter((v) => !v.pass).map((v) => v.figure).join(', ')})`}`,
    '',
    `- purpose: ${record.purpose}`,
    `- load shape: ${record.shape}`,
    `- command: \`${record.command}\``,
    `- target: ${record.target.name} (${record.target.source}): ingest ${record.target.ingest}, live ${record.target.live}, slots ${record.target.slots}`,
    `- when: ${new Date(record.startedAt).toISOString()} to ${new Date(record.endedAt).toISOString()} (${Math.round((record.endedAt - record.startedAt) / 1000)} s)`,
    `- load generator: ${record.machine}; ${record.sharesMachine ? '**shares the machine with the system under test** (its CPU is taken from the system: figures are a floor)' : 'on its own machine'}`,
    '',
    '## SLOs',
    '',
    '| figure | value | SLO | verdict |',
    '| --- | --- | --- | --- |',
    ...record.verdicts.map((v) => `| ${v.figure} | ${fmt(v.value)} | ≤ ${fmt(v.max)} | ${v.pass ? 'pass' : v.value === null ? '**FAIL** (not measured)' : '**FAIL**'} |`),
    '',
    '## Figures',
    '',
    '| figure | value |',
    '| --- | --- |',
    ...Object.entries(record.figures).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    '',
    '## Server side (sampled every 5 s from /metrics: first / highest / last)',
    '',
  ];
  if (record.servers.length === 0) lines.push('No /metrics endpoints in the target: server-side figures not sampled.');
  else {
    lines.push(`| service | ${serverFigures.map((f) => f.label).join(' | ')} |`, `| --- |${serverFigures.map(() => ' --- |').join('')}`);
    for (const series of record.servers) {
      const cells = serverFigures.map((f) => {
        const c = course(series, f.key);
        return c ? `${fmt(c.first)} / ${fmt(c.max)} / ${fmt(c.last)}` : '—';
      });
      lines.push(`| ${series.service}${series.failures > 0 ? ` (${series.failures} reads failed: ${series.lastError ?? ''})` : ''} | ${cells.join(' | ')} |`);
    }
  }
  if (record.notes.length > 0) lines.push('', '## Notes', '', ...record.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A line chart of one or more series (x: seconds since the start), as inline SVG. */
function lineChart(title: string, series: { name: string; points: [number, number][] }[]): string {
  const width = 560;
  const height = 180;
  const pad = { left: 56, right: 12, top: 24, bottom: 28 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<figure><figcaption>${escapeHtml(title)}</figcaption><p>no data</p></figure>`;
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const maxY = Math.max(1e-9, ...all.map(([, y]) => y)) * 1.1;
  const sx = (x: number) => pad.left + (x / maxX) * (width - pad.left - pad.right);
  const sy = (y: number) => height - pad.bottom - (y / maxY) * (height - pad.top - pad.bottom);
  const colours = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#be123c'];
  const lines = series
    .map((s, i) => `<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"><title>${escapeHtml(s.name)}</title></polyline>`)
    .join('');
  const legend = series.map((s, i) => `<tspan fill="${colours[i % colours.length]}">■ ${escapeHtml(s.name)}</tspan>`).join(' ');
  const axes = `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#555"/><line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#555"/>`;
  const labels = `<text x="${pad.left - 4}" y="${pad.top + 4}" text-anchor="end">${fmt(maxY / 1.1)}</text><text x="${pad.left - 4}" y="${height - pad.bottom}" text-anchor="end">0</text><text x="${width - pad.right}" y="${height - 8}" text-anchor="end">${Math.round(maxX)} s</text><text x="${pad.left}" y="14">${legend}</text>`;
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">${axes}${lines}${labels}</svg></figure>`;
}

function periodStart(period: ArtilleryPeriod): number {
  return Number(period.firstMetricAt ?? period.period ?? 0);
}

export function reportHtml(record: RunRecord): string {
  const t0 = record.startedAt;
  const clientCharts = Object.entries(record.periods).flatMap(([part, periods]) => {
    const at = (p: ArtilleryPeriod) => (periodStart(p) - t0) / 1000;
    const summaryNames = [...new Set(periods.flatMap((p) => Object.keys(p.summaries)))].filter((n) => n.startsWith('plugins.metrics-by-endpoint.response_time.') || n.startsWith('tower.'));
    return [
      lineChart(`${part}: requests and virtual users per period`, [
        { name: 'http.requests', points: periods.map((p) => [at(p), p.counters['http.requests'] ?? 0]) },
        { name: 'vusers.created', points: periods.map((p) => [at(p), p.counters['vusers.created'] ?? 0]) },
        { name: 'vusers.failed', points: periods.map((p) => [at(p), p.counters['vusers.failed'] ?? 0]) },
      ]),
      lineChart(`${part}: p99 per period (ms)`, summaryNames.map((n) => ({ name: n.replace('plugins.metrics-by-endpoint.response_time.', ''), points: periods.filter((p) => p.summaries[n]).map((p) => [at(p), p.summaries[n]!.p99] as [number, number]) }))),
    ];
  });
  const serverCharts = serverFigures.map((f) =>
    lineChart(
      f.label,
      record.servers.map((s) => ({ name: s.service, points: s.samples.filter((x) => typeof x.figures[f.key] === 'number').map((x) => [(x.at - t0) / 1000, x.figures[f.key]!] as [number, number]) })).filter((s) => s.points.length > 0),
    ),
  );
  const rows = record.verdicts.map((v) => `<tr class="${v.pass ? 'pass' : 'fail'}"><td>${escapeHtml(v.figure)}</td><td>${fmt(v.value)}</td><td>≤ ${fmt(v.max)}</td><td>${v.pass ? 'pass' : 'FAIL'}</td></tr>`).join('');
  const figures = Object.entries(record.figures).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${fmt(v)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load test ${escapeHtml(record.scenario)}</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}tr.fail td{background:#fde2e2}tr.pass td:last-child{color:#15803d}tr.fail td:last-child{color:#b91c1c;font-weight:bold}figure{display:inline-block;margin:8px 16px 8px 0}figcaption{font-weight:600}svg text{font-size:11px;fill:#333}.verdict{font-size:20px;font-weight:bold}</style>
</head><body>
<h1>Load test <code>${escapeHtml(record.scenario)}</code></h1>
<p class="verdict">${passed(record) ? 'PASS' : 'FAIL'}</p>
<p>${escapeHtml(record.purpose)}</p>
<ul><li>load shape: ${escapeHtml(record.shape)}</li><li>command: <code>${escapeHtml(record.command)}</code></li>
<li>target: ${escapeHtml(record.target.name)} (${escapeHtml(record.target.source)})</li>
<li>${new Date(record.startedAt).toISOString()} to ${new Date(record.endedAt).toISOString()}</li>
<li>load generator: ${escapeHtml(record.machine)}; ${record.sharesMachine ? '<strong>shares the machine with the system under test</strong>' : 'on its own machine'}</li></ul>
<h2>SLOs</h2><table><tr><th>figure</th><th>value</th><th>SLO</th><th>verdict</th></tr>${rows}</table>
<h2>Load generator's view</h2>${clientCharts.join('\n')}
<h2>Server side (/metrics every 5 s)</h2>${record.servers.length > 0 ? serverCharts.join('\n') : '<p>not sampled: the target names no /metrics</p>'}
<h2>Figures</h2><table>${figures}</table>
${record.notes.length > 0 ? `<h2>Notes</h2><ul>${record.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
