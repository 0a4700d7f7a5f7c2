import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dataquery as PrometheusQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { composeMonitoring, composeScrapePlan } from '../prometheus/scrape.ts';
import { dashboardsDir, renderDashboards } from './dashboards.ts';
import { overviewUid, prometheusDatasourceUid } from './panels.ts';
import { selectors } from './promql.ts';

const root = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** A metric the dashboards may read, and the labels its matchers may use (undefined: any). */
type Catalog = Map<string, string[] | undefined>;

/**
 * What exists to read: every metric in docs/metrics.md's tables (a histogram also as its
 * _bucket, _count and _sum series; every series has `instance` and `job`, a service's series,
 * its own or a process metric, `service`: every table's but the infrastructure's), every
 * recording rule of infra/prometheus/rules (its labels are its name's level: `service_topic:…`
 * has service and topic), and Prometheus's own `up`.
 */
function catalog(): Catalog {
  const found: Catalog = new Map([['up', ['job', 'instance', 'service']]]);
  const scrape = ['instance', 'job'];
  for (const section of read('docs/metrics.md').split(/^## /m)) {
    const ofServices = !section.startsWith('Infrastructure metrics\n');
    for (const [, name, type, labels] of section.matchAll(/^\| `([a-zA-Z_:][\w:]*)` \| (\w+) \|([^|]*)\|/gm)) {
      const own = labels!.split(',').map((l) => l.trim().replaceAll('`', '')).filter((l) => l !== '' && l !== '-');
      const base = [...own, ...scrape, ...(ofServices ? ['service'] : [])];
      found.set(name!, base);
      if (type === 'histogram' || type === 'summary') {
        for (const suffix of ['_count', '_sum']) found.set(`${name}${suffix}`, base);
        found.set(`${name}_bucket`, [...base, 'le']);
      }
    }
  }
  const rulesDir = join(root, 'infra/prometheus/rules');
  for (const file of readdirSync(rulesDir).filter((f) => f.endsWith('.yml'))) {
    const rules = (parse(readFileSync(join(rulesDir, file), 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups.flatMap((g) => g.rules);
    for (const { record } of rules) if (record) found.set(record, record.split(':')[0]!.split('_').filter((l) => l !== ''));
  }
  return found;
}

function panelsOf(d: Dashboard): Panel[] {
  return (d.panels ?? []).filter((p): p is Panel => p.type !== 'row');
}

/** Every PromQL expression of a dashboard: its panels' queries and its variables' `label_values(selector, label)`. */
function expressions(d: Dashboard): { where: string; expr: string }[] {
  const fromPanels = panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.uid} / ${p.title}`, expr: (t as unknown as PrometheusQuery).expr })));
  const fromVariables = (d.templating.list ?? []).filter((v) => v.type === 'query').map((v) => {
    const definition = /^label_values\((.*),\s*\w+\)$/.exec(v.definition ?? '')?.[1];
    if (definition === undefined) throw new Error(`${d.uid}: variable ${v.name} is not label_values(selector, label)`);
    return { where: `${d.uid} / variable ${v.name}`, expr: definition };
  });
  return [...fromPanels, ...fromVariables];
}

/** A dashboard query with Grafana's variables filled in as it would fill them (every instance, every service). */
const filled = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*').replaceAll('$service', '.*');

/** `promtool <command> <subcommand>` on `document` written as a YAML file; fails (never skips) where promtool is not installed. */
function promtool(command: string, subcommand: string, document: object): { status: number | null; output: string } {
  const scratch = mkdtempSync(join(tmpdir(), 'tower-dashboards-'));
  try {
    writeFileSync(join(scratch, 'input.yml'), stringify(document));
    const run = spawnSync('promtool', [command, subcommand, join(scratch, 'input.yml')], { encoding: 'utf8' });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('promtool is not installed: run `bash infra/local/bootstrap.sh --test`');
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** What the dashboards read that does not exist: unknown metrics, and labels their metric does not have. */
function unknownReads(all: Dashboard[], known: Catalog): string[] {
  return all.flatMap(expressions).flatMap(({ where, expr }) => selectors(expr).flatMap(({ name, labels }) => {
    if (!known.has(name)) return [`${where}: ${name} is not in docs/metrics.md nor a recording rule`];
    const allowed = known.get(name);
    return labels.filter((l) => allowed !== undefined && !allowed.includes(l)).map((l) => `${where}: ${name} has no label ${l}`);
  }));
}

/** The dashboards as written (the SDK's objects hold functions JSON leaves out). */
const built = [...renderDashboards().values()].map((text) => JSON.parse(text) as Dashboard);

describe('Grafana dashboards (infra/grafana)', () => {
  it('are the committed JSON (regenerate with npm run dashboards:generate)', () => {
    const rendered = renderDashboards();
    expect(readdirSync(dashboardsDir).sort()).toEqual([...rendered.keys()].sort());
    for (const [name, text] of rendered) expect(readFileSync(join(dashboardsDir, name), 'utf8'), name).toBe(text);
  });

  it('are the overview, one per service and one per infrastructure part, each with a stable unique uid', () => {
    const uids = built.map((d) => d.uid!);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids).toEqual(expect.arrayContaining([overviewUid, 'tower-ingest', 'tower-aggregator', 'tower-live', 'tower-slots', 'tower-simulator']));
    for (const uid of uids) expect(uid).toMatch(/^tower-[a-z-]{1,34}$/);
  });

  it('read only metrics docs/metrics.md lists (or recording rules, or up), by labels they have', () => {
    const known = catalog();
    expect(built.flatMap(expressions).length).toBeGreaterThan(50);
    expect(unknownReads(built, known)).toEqual([]);
  });

  it('would fail on a made-up metric or label (the check above can fail)', () => {
    const known = catalog();
    const [first] = built;
    const broken = structuredClone(first!);
    const panel = panelsOf(broken)[0]!;
    panel.targets = [{ expr: 'sum by (topic) (rate(tower_made_up_total[5m])) / up{made_up_label="x"}' } as never];
    expect(unknownReads([broken], known)).toEqual([
      expect.stringContaining('tower_made_up_total is not in docs/metrics.md'),
      expect.stringContaining('up has no label made_up_label'),
    ]);
  });

  it('are PromQL Prometheus 2.42 parses (promtool check rules on every query, Grafana\'s variables filled in)', () => {
    const rules = built.flatMap(expressions).map(({ expr }, i) => ({ record: `dashboard_query_${i}`, expr: filled(expr) }));
    const run = promtool('check', 'rules', { groups: [{ name: 'dashboards', rules }] });
    expect(run.status, run.output).toBe(0);
  });

  it('show a 5xx share and burn of 0, not no data, where no request was ever answered 5xx (promtool test rules, with the recording rules)', () => {
    // The panels' own 5xx queries, and those reading the recorded 5xx share: the series itself is one 0 per service.
    const ratio = 'service:tower_http_requests_5xx:ratio_rate5m';
    const all = built.flatMap(expressions).map(({ expr }) => filled(expr));
    const own = all.filter((expr) => expr.includes('status_class="5xx"') && !expr.includes(':'));
    const recorded = all.filter((expr) => expr.includes(ratio));
    expect(own.length).toBeGreaterThan(5);
    expect(recorded.length).toBeGreaterThan(1);
    const services = ['ingest', 'aggregator', 'live', 'slots', 'simulator'];
    const zeros = (expr: string) => (expr.startsWith(`${ratio}{`) ? services.map((service) => ({ labels: `${ratio}{service="${service}"}`, value: 0 })) : [{ labels: '{}', value: 0 }]);
    const run = promtool('test', 'rules', {
      rule_files: [join(root, 'infra/prometheus/rules/tower.rules.yml')],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        // Every service answers 60 requests a minute, all 2xx: no 5xx series exists.
        input_series: services.map((service) => ({
          series: `tower_http_request_duration_seconds_count{service="${service}", instance="${service}:1", job="${service}", route="/v1/x", method="GET", status_class="2xx"}`,
          values: '0+60x120',
        })),
        promql_expr_test: [...own, ...recorded].map((expr) => ({ expr, eval_time: '90m', exp_samples: zeros(expr) })),
      }],
    });
    expect(run.status, run.output).toBe(0);
  });

  it('burn the freshness budget at a bucket bound the gateway\'s histogram has (le="<SLO>" must be a series)', () => {
    const declaration = read('services/live/src/gateway/metrics.ts');
    const buckets = /name: 'tower_live_tick_freshness_seconds',[\s\S]*?buckets: \[([^\]]*)\]/.exec(declaration)?.[1]?.split(',').map(Number);
    expect(buckets, 'the freshness histogram\'s buckets in services/live/src/gateway/metrics.ts').toBeDefined();
    // The bound as a regex matching Prometheus 2's `le="2"` and 3's `le="2.0"`.
    const bounds = built.flatMap(expressions).flatMap(({ expr }) => [...expr.matchAll(/tower_live_tick_freshness_seconds_bucket\{le=~"([^"]+)"\}/g)].map((m) => m[1]!));
    expect(bounds.length).toBeGreaterThan(0);
    for (const bound of bounds) {
      const pattern = new RegExp(`^(?:${bound.replaceAll('\\\\', '\\')})$`);
      const matched = buckets!.filter((b) => pattern.test(String(b)));
      expect(matched, `le=~"${bound}" matches exactly one bucket as exposed`).toHaveLength(1);
      const normalized = Number.isInteger(matched[0]) ? `${matched[0]}.0` : String(matched[0]);
      expect(pattern.test(normalized), `le=~"${bound}" matches it as Prometheus 3 stores it (${normalized})`).toBe(true);
    }
  });

  it('give every panel a unit, a description, queries and the datasource variable', () => {
    for (const d of built) {
      for (const p of panelsOf(d)) {
        const where = `${d.uid} / ${p.title}`;
        expect(p.fieldConfig?.defaults.unit, where).toMatch(/^(s|ops|reqps|short|percentunit|bytes|Bps|percent|suffix:.+)$/);
        expect(p.description, where).toBeTruthy();
        expect(p.targets?.length, where).toBeGreaterThan(0);
        expect(p.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  it('lead to each other: every dashboard links to the overview and lists the others by tag; every /d/ link resolves', () => {
    const uids = new Set(built.map((d) => d.uid));
    for (const d of built) {
      const links = [...(d.links ?? []), ...panelsOf(d).flatMap((p) => p.links ?? [])];
      if (d.uid !== overviewUid) expect(links.map((l) => l.url), d.uid).toContain(`/d/${overviewUid}`);
      expect(links.some((l) => l.type === 'dashboards' && l.tags.length > 0), d.uid).toBe(true);
      for (const url of links.flatMap((l) => (l.url?.startsWith('/d/') ? [l.url] : []))) expect(uids, `${d.uid} → ${url}`).toContain(url.slice(3));
    }
  });

  it('lay panels out on the 24-column grid without overlap', () => {
    for (const d of built) {
      const cells = new Set<string>();
      for (const p of (d.panels ?? []) as (Panel | RowPanel)[]) {
        const { x, y, w, h } = p.gridPos!;
        expect(x + w, `${d.uid} / ${p.title}`).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${d.uid} / ${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });
});

describe('Grafana provisioning (infra/grafana/provisioning, mounted by compose)', () => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const valid = (schema: object, file: string) => {
    const check = ajv.compile(schema);
    const document: unknown = parse(read(file));
    expect(check(document), `${file}: ${ajv.errorsText(check.errors)}`).toBe(true);
    return document;
  };

  it('provisions the Prometheus datasource whose uid every dashboard defaults to', () => {
    const document = valid({
      type: 'object', additionalProperties: false, required: ['apiVersion', 'datasources'],
      properties: {
        apiVersion: { const: 1 },
        datasources: { type: 'array', minItems: 1, maxItems: 1, items: {
          type: 'object', additionalProperties: false, required: ['name', 'uid', 'type', 'access', 'url', 'isDefault'],
          properties: {
            name: { type: 'string' }, uid: { const: prometheusDatasourceUid }, type: { const: 'prometheus' }, access: { const: 'proxy' },
            // Compose's Prometheus (infra/prometheus/scrape.ts), and its scrape interval, which $__rate_interval is built on.
            url: { const: `http://${composeMonitoring.prometheus.host}:${composeMonitoring.prometheus.port}` }, isDefault: { const: true }, editable: { type: 'boolean' },
            jsonData: { type: 'object', additionalProperties: false, required: ['timeInterval'],
              properties: { timeInterval: { const: composeScrapePlan([]).interval }, httpMethod: { enum: ['GET', 'POST'] } } },
          },
        } },
      },
    }, 'infra/grafana/provisioning/datasources/prometheus.yml');
    expect(document).toBeTruthy();
    for (const d of built) {
      expect(d.templating.list?.[0], d.uid).toMatchObject({ type: 'datasource', name: 'datasource', query: 'prometheus', current: { value: prometheusDatasourceUid } });
    }
  });

  it('provisions the dashboards from the folder compose mounts, into the tower\'s folder', () => {
    valid({
      type: 'object', additionalProperties: false, required: ['apiVersion', 'providers'],
      properties: {
        apiVersion: { const: 1 },
        providers: { type: 'array', minItems: 1, maxItems: 1, items: {
          type: 'object', additionalProperties: false, required: ['name', 'type', 'folder', 'options'],
          properties: {
            name: { type: 'string' }, orgId: { type: 'integer' }, type: { const: 'file' }, folder: { const: 'Móng Cái control tower' },
            disableDeletion: { type: 'boolean' }, allowUiUpdates: { type: 'boolean' }, updateIntervalSeconds: { type: 'integer', minimum: 10 },
            options: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { const: '/var/lib/grafana/dashboards' }, foldersFromFilesStructure: { const: false } } },
          },
        } },
      },
    }, 'infra/grafana/provisioning/dashboards/tower.yml');
  });
});
