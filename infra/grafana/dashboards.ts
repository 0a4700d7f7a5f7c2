/**
 * The tower's Grafana dashboards as code: `npm run dashboards:generate` writes them to
 * infra/grafana/dashboards/<uid>.json (checked in, provisioned by compose's Grafana from
 * infra/grafana/provisioning); dashboards.test.ts fails when the committed files differ
 * from what this builds, or when a query reads a metric docs/metrics.md does not list.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { infrastructureDashboards } from './infrastructure.ts';
import { overview } from './overview.ts';
import { serviceDashboards } from './services.ts';

export const dashboardsDir = join(import.meta.dirname, 'dashboards');

/** Every dashboard, built. */
export function dashboards(): Dashboard[] {
  return [overview(), ...[...Object.values(serviceDashboards), ...Object.values(infrastructureDashboards)].map((build) => build())];
}

/** File name → the text written for it. */
export function renderDashboards(): Map<string, string> {
  return new Map(dashboards().map((d) => [`${d.uid}.json`, `${JSON.stringify(d, null, 2)}\n`]));
}

if (process.argv[1] === import.meta.filename) {
  const files = renderDashboards();
  mkdirSync(dashboardsDir, { recursive: true });
  for (const old of readdirSync(dashboardsDir)) if (!files.has(old)) rmSync(join(dashboardsDir, old));
  for (const [name, text] of files) writeFileSync(join(dashboardsDir, name), text);
  process.stdout.write(`${files.size} dashboards written to infra/grafana/dashboards\n`);
}
