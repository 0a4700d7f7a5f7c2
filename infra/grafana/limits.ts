/**
 * The bounds the dashboards draw, read from where they are decided so a dashboard
 * cannot show another line than the one the load tests judge or the alert fires at:
 * the SLOs of loadtests/sre/slos.json and the alerts' bounds in
 * infra/prometheus/rules/tower.alerts.yml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');

/** Scenario → figure → highest passing value (and a `$comment` string). */
const slos = JSON.parse(readFileSync(join(root, 'loadtests/sre/slos.json'), 'utf8')) as Record<string, Record<string, number> | string>;

/**
 * The SLO `figure` (e.g. `ingest.p99_ms`), the strictest any scenario sets, in
 * Prometheus's units: `_ms` figures in seconds, `_percent` figures as a ratio.
 */
export function slo(figure: string): number {
  const values = Object.values(slos).flatMap((figures) => (typeof figures === 'object' && figure in figures ? [figures[figure]!] : []));
  if (values.length === 0) throw new Error(`no scenario of loadtests/sre/slos.json sets ${figure}`);
  const value = Math.min(...values);
  if (figure.endsWith('_ms')) return value / 1000;
  if (figure.endsWith('_percent')) return value / 100;
  return value;
}

interface RuleFile { groups: { rules: { alert?: string; expr: string }[] }[] }
const alerts = (parse(readFileSync(join(root, 'infra/prometheus/rules/tower.alerts.yml'), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);

/** The number alert `name` compares with (its expression ends `> 60`, `< 0.1`…). */
export function alertBound(name: string): number {
  const expr = alerts.find((rule) => rule.alert === name)?.expr;
  const bound = expr === undefined ? undefined : /[<>]=?\s*([0-9.]+)\s*$/.exec(expr.trim())?.[1];
  if (bound === undefined) throw new Error(`infra/prometheus/rules/tower.alerts.yml has no alert ${name} ending in a comparison with a number`);
  return Number(bound);
}
