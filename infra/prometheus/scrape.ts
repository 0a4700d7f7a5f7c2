/**
 * The one source of Prometheus's configuration: which jobs it scrapes, where each target
 * is, how often, and which rule files it evaluates. Rendered for the local profiles
 * (`.local/<profile>/prometheus/prometheus.yml`: 127.0.0.1 ports, the services found by
 * file-based discovery) and for docker-compose (infra/prometheus/prometheus.compose.yml:
 * the compose network's hostnames), so both scrape the same jobs with the same labels.
 *
 * Jobs: `prometheus` (itself), one per tower service (job = the service's name, every
 * target labelled `service`; the services' own series carry the same `service` label, so
 * their labels are honoured), `node` (node-exporter), `redis` (redis-exporter) and `kafka`
 * (the JMX exporter agent of each broker, one target per node).
 *
 * Locally a service's targets are a JSON file per service under
 * `.local/<profile>/prometheus/targets/`, written by `npm start` and by tests that start
 * services on free ports (`writeServiceTargets`); Prometheus picks changes up by itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot, resolveProfile, type InfraProfile, type ProfileName } from '../local/profiles.ts';
import { discoverServices, type ServiceDescription } from '../local/services.ts';

/**
 * Scrape and rule evaluation interval per profile: tests wait on it, so theirs is short.
 * The scrape timeout is Prometheus's default (10 s, cut to the interval: 5 s in the test
 * profile); Prometheus sends it with each scrape (X-Prometheus-Scrape-Timeout-Seconds) and
 * the ClickHouse exporter ends its read a tenth (at least 0.5 s) under it, so a slow
 * ClickHouse reads as tower_clickhouse_up 0 rather than as a failed scrape.
 */
const scrapeIntervals: Record<ProfileName, string> = { dev: '15s', test: '5s', bench: '15s' };

/** How long Prometheus keeps its data, locally and in compose. */
export const retention = { time: '7d', size: '2GB' } as const;

/** Where a job finds its targets: fixed addresses, or files that discovery watches. */
type TargetSource = { addresses: string[] } | { files: string[] };

export interface ScrapePlan {
  interval: string;
  /** Rule files (globs) as Prometheus sees them. */
  ruleFiles: string[];
  /** Prometheus's own address, as it reaches itself. */
  prometheus: string;
  services: { name: string; targets: TargetSource }[];
  nodeExporter: string;
  redisExporter: string;
  /** One address per Kafka node (its JMX exporter agent). */
  kafkaJmx: string[];
}

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/** A scrape job; `labels` go on static targets (discovered ones carry theirs in their file). */
function job(name: string, targets: TargetSource, options: { labels?: Record<string, string>; honorLabels?: boolean } = {}): Record<string, Yaml> {
  const head = { job_name: name, ...(options.honorLabels ? { honor_labels: true } : {}) };
  if ('files' in targets) return { ...head, file_sd_configs: [{ files: targets.files }] };
  return { ...head, static_configs: [{ targets: targets.addresses, ...(options.labels ? { labels: options.labels } : {}) }] };
}

/** Prometheus's configuration document for a plan. */
export function prometheusConfig(plan: ScrapePlan): Record<string, Yaml> {
  return {
    global: { scrape_interval: plan.interval, evaluation_interval: plan.interval },
    rule_files: plan.ruleFiles,
    scrape_configs: [
      job('prometheus', { addresses: [plan.prometheus] }),
      // The services label their own series with `service`: honoured rather than renamed to exported_service.
      ...plan.services.map((s) => job(s.name, s.targets, { labels: { service: s.name }, honorLabels: true })),
      job('node', { addresses: [plan.nodeExporter] }),
      job('redis', { addresses: [plan.redisExporter] }),
      job('kafka', { addresses: plan.kafkaJmx }),
    ],
  };
}

export function renderPrometheusConfig(plan: ScrapePlan, generatedBy: string): string {
  return `# ${generatedBy}; do not edit by hand: the scrape plan is infra/prometheus/scrape.ts.\n${stringify(prometheusConfig(plan), { lineWidth: 0 })}`;
}

// --- Local profiles -----------------------------------------------------------

/** A profile's Prometheus files: its configuration, its data and the services' target files. */
export function prometheusFiles(profile: InfraProfile): { config: string; data: string; targets: string } {
  const dir = profile.monitoring.prometheusDataDir;
  return { config: path.join(dir, 'prometheus.yml'), data: path.join(dir, 'data'), targets: path.join(dir, 'targets') };
}

const targetsFile = (profile: InfraProfile, service: string) => path.join(prometheusFiles(profile).targets, `${service}.json`);

export function localScrapePlan(profile: InfraProfile, services: readonly ServiceDescription[] = discoverServices()): ScrapePlan {
  const { monitoring } = profile;
  return {
    interval: scrapeIntervals[profile.name],
    ruleFiles: [path.join(repoRoot, 'infra/prometheus/rules/*.yml')],
    prometheus: `127.0.0.1:${monitoring.prometheusPort}`,
    services: services.map((s) => ({ name: s.name, targets: { files: [targetsFile(profile, s.name)] } })),
    nodeExporter: `127.0.0.1:${monitoring.nodeExporterPort}`,
    redisExporter: `127.0.0.1:${monitoring.redisExporterPort}`,
    kafkaJmx: profile.kafka.nodes.map((_, i) => `127.0.0.1:${monitoring.kafkaJmxBasePort + i}`),
  };
}

/** Writes `file` through a rename, so file-based discovery never reads half a file. Returns whether it changed. */
function replaceFile(file: string, content: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return false;
  const next = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(next, content);
  fs.renameSync(next, file);
  return true;
}

/**
 * Renders the profile's prometheus.yml; returns whether it changed. Every service's target
 * file exists afterwards (empty when new): discovery watches their directory only if it
 * exists when the configuration is loaded, and would otherwise see them minutes late.
 */
export function writePrometheusConfig(profile: InfraProfile, services: readonly ServiceDescription[] = discoverServices()): boolean {
  for (const { name } of services) if (!fs.existsSync(targetsFile(profile, name))) replaceFile(targetsFile(profile, name), '[]\n');
  return replaceFile(prometheusFiles(profile).config, renderPrometheusConfig(localScrapePlan(profile, services), 'Rendered by infra/local/servers.ts'));
}

export interface ServiceTarget {
  /** The service's workspace name (services/<name>), which is also its job. */
  service: string;
  port: number;
}

/**
 * Makes `targets` the profile's service targets: every service's file is rewritten, so a
 * service not named has none (its job is empty, never a stale port that reads as down).
 */
export function writeServiceTargets(profile: InfraProfile, targets: readonly ServiceTarget[], services: readonly ServiceDescription[] = discoverServices()): void {
  const known = new Set(services.map((s) => s.name));
  const unknown = targets.filter((t) => !known.has(t.service));
  if (unknown.length > 0) throw new Error(`no scrape job for ${unknown.map((t) => t.service).join(', ')}: jobs are the services under services/ (${[...known].join(', ')})`);
  for (const { name } of services) {
    const mine = targets.filter((t) => t.service === name).map((t) => `127.0.0.1:${t.port}`);
    replaceFile(targetsFile(profile, name), `${JSON.stringify(mine.length > 0 ? [{ targets: mine, labels: { service: name } }] : [], null, 2)}\n`);
  }
}

// --- docker-compose -------------------------------------------------------------

/**
 * The monitoring containers' names and ports in the compose network. The ports are the
 * usual ones (the dev profile's); Kafka's JMX exporter agent runs inside the `kafka` container.
 */
const standard = resolveProfile('dev').monitoring;
export const composeMonitoring = {
  prometheus: { host: 'prometheus', port: standard.prometheusPort },
  nodeExporter: { host: 'node-exporter', port: standard.nodeExporterPort },
  redisExporter: { host: 'redis-exporter', port: standard.redisExporterPort },
  kafkaJmx: { host: 'kafka', port: standard.kafkaJmxBasePort },
  grafana: { host: 'grafana', port: 3000 },
} as const;

/** Where the compose Prometheus finds its configuration and rules (mounted from infra/prometheus). */
export const composePrometheusPaths = { config: '/etc/prometheus/prometheus.yml', rules: '/etc/prometheus/rules', data: '/prometheus' } as const;

/** The committed configuration of the compose Prometheus. */
export const composePrometheusConfigFile = 'infra/prometheus/prometheus.compose.yml';

const address = ({ host, port }: { host: string; port: number }) => `${host}:${port}`;

export function composeScrapePlan(services: readonly ServiceDescription[] = discoverServices()): ScrapePlan {
  return {
    interval: scrapeIntervals.dev,
    ruleFiles: [`${composePrometheusPaths.rules}/*.yml`],
    prometheus: `localhost:${composeMonitoring.prometheus.port}`,
    services: services.map((s) => ({ name: s.name, targets: { addresses: [`${s.name}:${s.port}`] } })),
    nodeExporter: address(composeMonitoring.nodeExporter),
    redisExporter: address(composeMonitoring.redisExporter),
    kafkaJmx: [address(composeMonitoring.kafkaJmx)],
  };
}

export function composePrometheusConfig(): string {
  return renderPrometheusConfig(composeScrapePlan(), 'Generated by infra/containers/compose.ts (npm run compose:generate)');
}
