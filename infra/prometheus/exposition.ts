/**
 * What an exporter serves (the Prometheus text format) against what docs/metrics.md's
 * "Infrastructure metrics" table promises: read by the tests that scrape real exporters
 * (infra/kafka/jmx-exporter.int.test.ts, infra/local/exporters.int.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../local/profiles.ts';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  samples: Sample[];
}

/** The families of a scrape by the name of their `# TYPE` line, with their samples (`_count`, `_sum`, `_bucket` go to their family). */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, { type: type[2]!, samples: [] });
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText, value] = sample as unknown as [string, string, string | undefined, string];
    const family = families.get(name) ?? families.get(name.replace(/_(?:bucket|count|sum)$/, ''));
    if (!family) throw new Error(`sample ${name} has no # TYPE line`);
    const labels = Object.fromEntries([...(labelText ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    family.samples.push({ name, labels, value: Number(value) });
  }
  return families;
}

/** Scrapes `/metrics` on 127.0.0.1:`port`. */
export async function scrape(port: number): Promise<Map<string, Family>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`127.0.0.1:${port}/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

export interface DocumentedMetric {
  name: string;
  type: string;
  labels: string[];
  source: string;
}

/** The rows of docs/metrics.md's "Infrastructure metrics" table. */
export function infrastructureMetrics(): DocumentedMetric[] {
  const doc = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8');
  const section = doc.slice(doc.indexOf('\n## Infrastructure metrics\n'));
  return section
    .split('\n')
    .filter((line) => /^\| `\w+` \|/.test(line))
    .map((row) => {
      const [name, type, labels, , source] = row.split('|').slice(1, 6).map((cell) => cell.trim().replaceAll('`', ''));
      return { name: name!, type: type!, labels: labels === '' ? [] : labels!.split(',').map((l) => l.trim()), source: source! };
    });
}

/** How a scrape differs from the documented rows: a family missing, of another type, without samples, or with other labels. */
export function differencesFromDocs(families: Map<string, Family>, rows: readonly DocumentedMetric[]): string[] {
  return rows.flatMap(({ name, type, labels }) => {
    const family = families.get(name);
    if (!family) return [`${name} is not exported`];
    if (family.type !== type) return [`${name} is a ${family.type}, documented as a ${type}`];
    if (family.samples.length === 0) return [`${name} has no sample`];
    const documented = [...labels].sort().join(', ');
    const seen = new Set(family.samples.map((s) => Object.keys(s.labels).sort().join(', ')));
    return [...seen].filter((set) => set !== documented).map((set) => `${name} has labels (${set}), documented (${documented})`);
  });
}
