import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';

/**
 * docs/metrics.md lists every metric the services declare; these checks read the
 * declarations (`new Counter|Gauge|Histogram|Summary({ name: 'tower_…', labelNames })`
 * in services/* and shared/) so the table cannot rot, and hold them to Prometheus naming.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const table = fs.readFileSync(path.join(root, 'docs/metrics.md'), 'utf8');

interface Declared {
  name: string;
  type: string;
  labels: string[];
  where: string;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'wall' ? [] : sources(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

function declared(): Declared[] {
  const dirs = [path.join(root, 'shared/src'), ...fs.readdirSync(path.join(root, 'services')).map((s) => path.join(root, 'services', s, 'src'))];
  return dirs.filter((dir) => fs.existsSync(dir)).flatMap(sources).flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return [...text.matchAll(/new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{([\s\S]*?)registers/g)].map(([, kind, options]) => ({
      name: /name: '(tower_\w+)'/.exec(options!)?.[1] ?? `(no tower_ name in ${path.relative(root, file)})`,
      type: kind!.toLowerCase(),
      labels: [.../labelNames: \[([^\]]*)\]/.exec(options!)?.[1]?.matchAll(/'(\w+)'/g) ?? []].map((m) => m[1]!),
      where: path.relative(root, file),
    }));
  });
}

/** The rows of the table: `| \`name\` | type | labels | meaning | services |`. */
function documented(): Map<string, { type: string; labels: string[] }> {
  const rows = table.split('\n').filter((line) => line.startsWith('| `tower_'));
  return new Map(
    rows.map((row) => {
      const [name, type, labels] = row.split('|').slice(1, 4).map((cell) => cell.trim().replaceAll('`', ''));
      return [name!, { type: type!, labels: labels === '' || labels === '-' ? [] : labels!.split(',').map((l) => l.trim()) }];
    }),
  );
}

/** The rows of the "Process metrics of every service" table: name, type and labels. */
function processRows(): { name: string; type: string; labels: string[] }[] {
  const section = table.split(/^## /m).find((s) => s.startsWith('Process metrics of every service\n'));
  if (section === undefined) throw new Error('docs/metrics.md has no "## Process metrics of every service"');
  return section.split('\n').filter((line) => /^\| `\w+` \|/.test(line)).map((row) => {
    const [name, type, labels] = row.split('|').slice(1, 4).map((cell) => cell.trim().replaceAll('`', ''));
    return { name: name!, type: type!, labels: labels === '' ? [] : labels!.split(',').map((l) => l.trim()) };
  });
}

describe('docs/metrics.md', () => {
  const metrics = declared();

  it('finds the declarations it checks', () => {
    expect(metrics.length).toBeGreaterThan(20);
    expect(metrics.filter((m) => m.name.startsWith('(no'))).toEqual([]);
  });

  it('lists every metric the code declares, with its type and labels, and no other', () => {
    const rows = documented();
    const fromCode = new Map(metrics.map((m) => [m.name, { type: m.type, labels: m.labels }]));
    expect(Object.fromEntries([...rows].sort())).toEqual(Object.fromEntries([...fromCode].sort()));
  });

  it('declares each name once, or identically where two consumers share it', () => {
    for (const metric of metrics) {
      const same = metrics.filter((m) => m.name === metric.name);
      expect(same.map((m) => ({ type: m.type, labels: m.labels })), metric.name).toEqual(same.map(() => ({ type: metric.type, labels: metric.labels })));
    }
  });

  it('follows Prometheus naming: counters end in _total and nothing else does; a gauge in seconds is a timestamp or an age', () => {
    for (const { name, type, where } of metrics) {
      expect(name.endsWith('_total'), `${name} (${type}, ${where})`).toBe(type === 'counter');
      if (type === 'gauge' && name.endsWith('_seconds')) expect(name, where).toMatch(/_(timestamp|age)_seconds$/);
    }
  });

  it('lists in the process table only prom-client default metrics, each with its type and labels', () => {
    const rows = processRows();
    expect(rows.length).toBeGreaterThan(5);
    // What every service's registry gets from createMetricsRegistry (shared/src/http.ts): prom-client's defaults, as
    // its metric objects hold them (the typings declare neither labelNames nor the type's string).
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const metrics = registry.getMetricsAsArray() as unknown as { name: string; type: string; labelNames: string[] }[];
    const defaults = new Map(metrics.map((m) => [m.name, { type: m.type, labels: [...m.labelNames].sort() }]));
    for (const row of rows) expect(defaults.get(row.name), row.name).toEqual({ type: row.type, labels: [...row.labels].sort() });
  });
});
