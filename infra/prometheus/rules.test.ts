import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const here = import.meta.dirname;
const rulesDir = join(here, 'rules');
const testsDir = join(here, 'tests');
const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.yml'));
const testFiles = readdirSync(testsDir).filter((f) => f.endsWith('.yml'));
const runbook = readFileSync(join(here, '../../docs/runbook.md'), 'utf8');

interface Rule { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleFile { groups: { name: string; rules: Rule[] }[] }
interface AlertTest { alertname: string; exp_alerts: unknown[] }
interface TestFile { tests: { alert_rule_test?: AlertTest[] }[] }

const alertsFile = 'tower.alerts.yml';
const alerts = (parse(readFileSync(join(rulesDir, alertsFile), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const alertTests = testFiles.flatMap((f) => (parse(readFileSync(join(testsDir, f), 'utf8')) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []));

/** promtool's exit status and output; fails the test (never skips) where promtool is not installed. */
function promtool(args: string[], cwd = here): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('promtool is not installed: run `bash infra/local/bootstrap.sh --test` (it installs Debian’s prometheus, which ships promtool)');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
const testRules = (dir: string) => promtool(['test', 'rules', ...testFiles.map((f) => join('tests', f))], dir);

describe('Prometheus rules (infra/prometheus)', () => {
  it('pass promtool check rules', () => {
    const check = promtool(['check', 'rules', ...ruleFiles.map((f) => join('rules', f))]);
    expect(check.status, check.output).toBe(0);
  });

  it('pass promtool test rules: every alert fires on its fixture and stays quiet on the healthy one', () => {
    const run = testRules(here);
    expect(run.status, run.output).toBe(0);
  });

  it('read only metrics listed in docs/metrics.md (the services\' table, which its test holds to the code, the process table and the infrastructure\'s), by their declared labels', () => {
    const table = new Map(
      [...readFileSync(join(here, '../../docs/metrics.md'), 'utf8').matchAll(/^\| `([a-zA-Z_]\w*)` \| \w+ \|([^|]*)\|/gm)].map(([, name, labels]) => [name!, labels!.split(',').map((l) => l.trim())]),
    );
    const exprs = ruleFiles.flatMap((f) => (parse(readFileSync(join(rulesDir, f), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.expr)));
    // The services' metrics, their processes' and the exporters' (`up` is Prometheus's own); recorded series (with a colon) are the rules' own.
    const family = String.raw`(?<![:\w])((?:${['tower', 'process', 'nodejs', 'kafka', 'jvm', 'redis', 'node', 'ClickHouse(?:Metrics|ProfileEvents|AsyncMetrics)'].join('|')})_\w+?)(?:_bucket|_count|_sum)?`;
    const read = new Set(exprs.flatMap((e) => [...e.matchAll(new RegExp(String.raw`${family}\{([^}]*)\}|${family}\b(?!:)`, 'g'))].map((m) => JSON.stringify([m[1] ?? m[3], m[2] ?? '']))));
    expect(read.size).toBeGreaterThan(5);
    expect([...read].some((entry) => entry.startsWith('["node_'))).toBe(true);
    for (const entry of read) {
      const [name, selector] = JSON.parse(entry) as [string, string];
      expect(table.has(name), `${name} is not in docs/metrics.md`).toBe(true);
      const labels = [...selector.matchAll(/(\w+)\s*[=!]~?/g)].map((m) => m[1]!);
      for (const label of labels) expect([...table.get(name)!, 'service', 'le', 'instance', 'job'], `${name}{${label}}`).toContain(label);
    }
  });

  it('every alert has a severity, a summary, a description and a runbook section with what it means, how to confirm, what to do', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const rule of alerts) {
      const name = rule.alert!;
      expect(['page', 'ticket'], name).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], name).toBeTruthy();
      expect(rule.annotations?.['description'], name).toBeTruthy();
      expect(rule.annotations?.['runbook_url'], name).toBe(`docs/runbook.md#${name.toLowerCase()}`);
      const section = runbook.split(/^## /m).find((s) => s.startsWith(`${name}\n`));
      expect(section, `docs/runbook.md has no "## ${name}"`).toBeDefined();
      for (const part of ['What it means', 'How to confirm', 'What to do']) expect(section, `${name}: ${part}`).toContain(`**${part}**`);
    }
  });

  it('every alert has a fixture where it must fire and one where it must not', () => {
    for (const { alert } of alerts) {
      const mine = alertTests.filter((t) => t.alertname === alert);
      expect(mine.some((t) => t.exp_alerts.length > 0), `${alert} never expected to fire`).toBe(true);
      expect(mine.some((t) => t.exp_alerts.length === 0), `${alert} never expected quiet`).toBe(true);
    }
  });

  describe('the fixtures catch a broken alert', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'tower-rules-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    /** promtool test rules on a copy of the rules where `alert`'s expression is `expr`. */
    const withExpr = (alert: string, expr: string) => {
      cpSync(here, scratch, { recursive: true });
      const file = parse(readFileSync(join(rulesDir, alertsFile), 'utf8')) as RuleFile;
      for (const rule of file.groups.flatMap((g) => g.rules)) if (rule.alert === alert) rule.expr = expr;
      writeFileSync(join(scratch, 'rules', alertsFile), stringify(file));
      return testRules(scratch);
    };
    it.each(alerts.map((r) => r.alert!))('%s: never firing, or always firing, fails promtool test rules', (alert) => {
      expect(withExpr(alert, 'vector(1) > 2').status, 'an alert that never fires passes its fixtures').not.toBe(0);
      expect(withExpr(alert, 'vector(1)').status, 'an alert that always fires passes its fixtures').not.toBe(0);
    });
  });
});
