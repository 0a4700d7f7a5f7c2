import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { topicCatalog } from '../../shared/src/kafka/topic-catalog.ts';
import { stopDeadlineMs } from '../../shared/src/lifecycle.ts';
import { repoRoot } from '../local/profiles.ts';
import { newInfraCredentials } from '../local/infra-credentials.ts';
import { nodeExporterCollectors, standaloneRedisSpec } from '../local/servers.ts';
import { discoverServices } from '../local/services.ts';
import { composeEnvFileName, ensureComposeEnv, fromGeneratedEnv, generatedSettings, parseEnvFile } from './compose-env.ts';
import { composeMonitoring, composePrometheusConfig, composePrometheusConfigFile, composePrometheusPaths } from '../prometheus/scrape.ts';
import { composeDocument, composeFile, grafanaProvisioning, kafkaAgent, redisAclFile } from './compose.ts';
import { images, kafkaImageDefaultClusterId, redisPersistence } from './images.ts';

interface ComposeService {
  image?: string;
  ports?: string[];
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, unknown>;
  environment?: Record<string, string>;
  volumes?: string[];
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  configs: Record<string, unknown>;
}

const committed = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
const document = parse(committed) as ComposeFile;
const kafka = document.services['kafka']!;
const redis = document.services['redis']!;

/** Named-volume mounts of a service: container path → volume name (bind mounts and anonymous volumes excluded). */
function namedVolumeMounts(service: ComposeService): Map<string, string> {
  return new Map(
    (service.volumes ?? [])
      .map((mount) => mount.split(':'))
      .filter(([source]) => source !== undefined && source in document.volumes)
      .map(([source, target]) => [target!, source!]),
  );
}

/** `redis-server --a b c --d e` → { a: 'b c', d: 'e' }, as redis-server joins an option's arguments. */
function redisOptions(command: string[]): Record<string, string> {
  const options: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const arg of command.slice(1)) {
    if (arg.startsWith('--')) options[arg.slice(2)] = current = [];
    else current?.push(arg);
  }
  return Object.fromEntries(Object.entries(options).map(([name, values]) => [name, values.join(' ')]));
}

describe('docker-compose.yml', () => {
  it('is what the generator makes from the shared catalog (run npm run compose:generate)', () => {
    expect(committed).toBe(composeFile());
  });

  it('parses as YAML into the same document', () => {
    expect(document).toEqual(JSON.parse(JSON.stringify(composeDocument())));
  });

  it('is valid against the Compose Specification schema (infra/containers/compose-spec.json)', () => {
    const schemaFile = path.join(repoRoot, 'infra/containers/compose-spec.json');
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    // The schema names its draft by an https URL ajv does not resolve; draft-07 is ajv's default.
    delete schema['$schema'];
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(document);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs every service and provisions topics and migrations before them', () => {
    expect(document.services['provision']?.command).toContain('infra/provision/main.ts');
    for (const service of discoverServices()) {
      expect(document.services[service.name]?.depends_on).toHaveProperty('provision');
      expect(document.services[service.name]?.environment?.['KAFKA_BROKERS']).toBe('kafka:29092');
    }
    // Topics are created by the provision job from the catalog, never by the broker.
    expect(kafka.environment?.['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
    expect(topicCatalog.length).toBeGreaterThan(0);
  });

  it("gives every service longer to stop than its Lifecycle's whole stop takes at most, so Docker does not kill it mid-drain", () => {
    for (const service of discoverServices()) {
      const grace = /^(\d+)s$/.exec(document.services[service.name]?.stop_grace_period ?? '')?.[1];
      expect(Number(grace) * 1000, service.name).toBeGreaterThan(stopDeadlineMs);
    }
  });

  it("keeps Kafka's log (records and KRaft metadata) inside a named volume", () => {
    const logDirs = kafka.environment?.['KAFKA_LOG_DIRS']?.split(',') ?? [];
    expect(logDirs.length).toBeGreaterThan(0);
    const mounts = [...namedVolumeMounts(kafka).keys()];
    for (const dir of logDirs) {
      const onVolume = mounts.some((target) => dir === target || dir.startsWith(`${target}/`));
      expect(onVolume, `${dir} is on one of ${mounts.join(', ')}`).toBe(true);
    }
    // Without its own metadata dir, KRaft keeps the metadata log in the first log dir.
    expect(kafka.environment).not.toHaveProperty('KAFKA_METADATA_LOG_DIR');
  });

  it("takes Kafka's cluster id from the generated, uncommitted env file, never the image's shared default", () => {
    const clusterId = kafka.environment?.['CLUSTER_ID'];
    expect(clusterId).toBe(fromGeneratedEnv('TOWER_KAFKA_CLUSTER_ID'));
    expect(clusterId).not.toContain(kafkaImageDefaultClusterId);
    expect(generatedSettings.map((s) => s.name)).toContain('TOWER_KAFKA_CLUSTER_ID');
    // The env file holds per-deployment ids (and later passwords): never committed, never in an image.
    const ignored = (file: string) => fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n').map((line) => line.trim());
    expect(ignored('.gitignore')).toContain(composeEnvFileName);
    expect(ignored('.dockerignore')).toContain(composeEnvFileName);
  });

  it('runs Redis with the durability of the local stack: AOF fsynced before each answer', () => {
    const options = redisOptions(redis.command ?? []);
    expect(redis.command?.[0]).toBe('redis-server');
    expect(options['appendonly']).toBe('yes');
    expect(options['appendfsync']).toBe('always');
    expect(options).toEqual({ ...Object.fromEntries(redisPersistence), aclfile: redisAclFile });
    expect([...namedVolumeMounts(redis).keys()]).toContain('/data');
  });

  it('holds no password: every login refers to the generated .env; each service logs in as its own users', () => {
    const passwords = generatedSettings.filter((setting) => setting.name.endsWith('_PASSWORD'));
    expect(passwords.length).toBeGreaterThan(10);
    for (const setting of passwords) expect(committed, setting.name).toContain(fromGeneratedEnv(setting.name));
    for (const [name, service] of Object.entries(document.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|REDISCLI_AUTH/.test(variable)) expect(value, `${name} ${variable}`).toMatch(/^\$\{TOWER_[A-Z_]+_PASSWORD:\?/);
      }
    }
    expect(document.services['ingest']?.environment).toMatchObject({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'tower-ingest', REDIS_USERNAME: 'tower-ingest' });
    expect(document.services['live']?.environment).toMatchObject({ CLICKHOUSE_USER: 'tower_reader', CLICKHOUSE_ALERT_LOG_USER: 'tower_writer', KAFKA_SASL_USERNAME: 'tower-live' });
    expect(document.services['provision']?.environment).toMatchObject({ KAFKA_SASL_USERNAME: 'tower-admin', CLICKHOUSE_USER: 'tower_admin' });
    expect(kafka.environment?.['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP']).not.toMatch(/:PLAINTEXT\b/);
    expect(kafka.environment?.['KAFKA_AUTHORIZER_CLASS_NAME']).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    // The broker's command formats the volume with the SCRAM users; its own variables are the shell's, not compose's.
    expect(kafka.command?.join(' ')).toContain('$$TOWER_KAFKA_SCRAM_USERS');
  });

  it("runs Kafka with the JMX exporter agent and the local stack's rules, Redis's exporter as tower-monitor and the host's with the local collectors, under the names the compose Prometheus scrapes", () => {
    const agentJob = document.services['kafka-agent']!;
    expect(agentJob.volumes).toContain(`./${kafkaAgent.pom}:/tower/jmx-agent.pom.xml:ro`);
    expect(agentJob.command?.join(' ')).toContain('mvn -q -B -f /tower/jmx-agent.pom.xml dependency:copy-dependencies -DoutputDirectory=/agent');
    expect(kafka.depends_on).toEqual({ 'kafka-agent': { condition: 'service_completed_successfully' } });
    expect(namedVolumeMounts(agentJob).get('/agent')).toBe('kafka-agent');
    expect(namedVolumeMounts(kafka).get(kafkaAgent.directory)).toBe('kafka-agent');
    expect(document.configs['kafka-jmx-exporter']).toEqual({ file: `./${kafkaAgent.config}` });
    for (const file of [kafkaAgent.config, kafkaAgent.pom]) expect(fs.existsSync(path.join(repoRoot, file)), file).toBe(true);
    // The agent is the broker's only: in the container's environment it would load into the healthcheck's tools too.
    expect(kafka.environment).not.toHaveProperty('KAFKA_OPTS');
    expect(kafka.environment?.['TOWER_KAFKA_JAVAAGENT']).toBe(`-javaagent:${kafkaAgent.directory}/${kafkaAgent.jar}=${composeMonitoring.kafkaJmx.port}:${kafkaAgent.configTarget}`);
    expect(kafka.command?.join(' ')).toContain('export KAFKA_OPTS="$${KAFKA_OPTS:-} $$TOWER_KAFKA_JAVAAGENT"');

    const redisExporter = document.services[composeMonitoring.redisExporter.host]!;
    expect(redisExporter.command).toEqual(['--redis.addr=redis://redis:6379', '--redis.user=tower-monitor', '--redis-only-metrics']);
    expect(redisExporter.environment).toEqual({ REDIS_PASSWORD: fromGeneratedEnv('TOWER_REDIS_MONITOR_PASSWORD') });
    expect(document.services[composeMonitoring.nodeExporter.host]?.command).toEqual(['--path.rootfs=/host', '--collector.disable-defaults', ...nodeExporterCollectors.map((c) => `--collector.${c}`)]);
    expect(document.services).toHaveProperty(composeMonitoring.kafkaJmx.host);
  });

  it('pins every image to a patch release', () => {
    const withImage = Object.entries(document.services).filter(([, service]) => service.image !== undefined);
    expect(withImage.map(([name]) => name)).toEqual(expect.arrayContaining(['clickhouse', 'kafka', 'redis', 'prometheus', 'grafana']));
    // Every container is either built from the Dockerfile or runs one of the pinned images.
    for (const [name, service] of Object.entries(document.services)) {
      if (service.image === undefined) expect(service.build, name).toBe('.');
      else expect(Object.values(images), name).toContain(service.image);
    }
    for (const [name, service] of withImage) expect(service.image, name).toMatch(/:v?\d+\.\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$/);
    // The services' image is built from the Dockerfile on the pinned Node image.
    const from = [...fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThan(0);
    for (const image of from) expect(image).toBe(images.node);
    expect(images.node).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim$/);
  });
});

describe('Prometheus and Grafana in docker-compose.yml', () => {
  const prometheus = document.services['prometheus']!;
  const grafana = document.services['grafana']!;
  /** Bind mounts (`./path:target[:ro]`) as target → repository path. */
  const bindMounts = (service: ComposeService) =>
    new Map((service.volumes ?? []).filter((mount) => mount.startsWith('./')).map((mount) => [mount.split(':')[1]!, mount.split(':')[0]!.slice(2)]));

  it(`scrapes with ${composePrometheusConfigFile}, what the scrape plan generates (run npm run compose:generate)`, () => {
    expect(fs.readFileSync(path.join(repoRoot, composePrometheusConfigFile), 'utf8')).toBe(composePrometheusConfig());
    expect(bindMounts(prometheus).get(composePrometheusPaths.config)).toBe(composePrometheusConfigFile);
    expect(prometheus.command).toContain(`--config.file=${composePrometheusPaths.config}`);
  });

  it('evaluates the rules of infra/prometheus/rules and keeps its data in a named volume', () => {
    expect(bindMounts(prometheus).get(composePrometheusPaths.rules)).toBe('infra/prometheus/rules');
    const config = parse(composePrometheusConfig()) as { rule_files: string[] };
    expect(config.rule_files).toEqual([`${composePrometheusPaths.rules}/*.yml`]);
    expect(namedVolumeMounts(prometheus).get(composePrometheusPaths.data)).toBe('prometheus-data');
    expect(prometheus.command).toContain(`--storage.tsdb.path=${composePrometheusPaths.data}`);
  });

  it('scrapes every service by its compose name and port, and the monitoring containers that run', () => {
    const config = parse(composePrometheusConfig()) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] };
    const targets = new Map(config.scrape_configs.map((job) => [job.job_name, job.static_configs?.flatMap((c) => c.targets) ?? []]));
    for (const service of discoverServices()) expect(targets.get(service.name)).toEqual([`${service.name}:${service.port}`]);
    for (const [job, target] of [['prometheus', composeMonitoring.prometheus], ['node', composeMonitoring.nodeExporter], ['redis', composeMonitoring.redisExporter], ['kafka', composeMonitoring.kafkaJmx]] as const) {
      expect(targets.get(job), job).toEqual([job === 'prometheus' ? `localhost:${target.port}` : `${target.host}:${target.port}`]);
    }
  });

  it("provisions Grafana from infra/grafana (the Prometheus data source, the generated dashboards) with its admin password from the generated .env", () => {
    expect(bindMounts(grafana).get('/etc/grafana/provisioning')).toBe(grafanaProvisioning.provisioning);
    expect(bindMounts(grafana).get('/var/lib/grafana/dashboards')).toBe(grafanaProvisioning.dashboards);
    for (const source of [...bindMounts(grafana).values(), ...bindMounts(prometheus).values()]) expect(fs.existsSync(path.join(repoRoot, source)), `${source} exists`).toBe(true);
    expect(grafana.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBe(fromGeneratedEnv('TOWER_GRAFANA_ADMIN_PASSWORD'));
    expect(grafana.depends_on).toHaveProperty('prometheus');
    expect(namedVolumeMounts(grafana).get('/var/lib/grafana')).toBe('grafana-data');
  });

  it('publishes Prometheus and Grafana on 127.0.0.1 only', () => {
    expect(prometheus.ports).toEqual([`127.0.0.1:${composeMonitoring.prometheus.port}:${composeMonitoring.prometheus.port}`]);
    expect(grafana.ports).toEqual([`127.0.0.1:${composeMonitoring.grafana.port}:${composeMonitoring.grafana.port}`]);
  });
});

describe('the local Redis config', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('is rendered from the same persistence settings as the containers', async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-redis-conf-'));
    const spec = standaloneRedisSpec(root, 1, newInfraCredentials());
    await spec.prepare?.();
    const lines = fs.readFileSync(path.join(root, 'redis', 'redis.conf'), 'utf8').split('\n');
    for (const [name, value] of redisPersistence) expect(lines).toContain(`${name} ${value}`);
  });
});

describe('the generated compose env file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is created on first run with a fresh cluster id, readable by its owner only, and kept afterwards', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-compose-env-'));
    const file = path.join(dir, composeEnvFileName);
    expect(ensureComposeEnv(file)).toEqual({ added: generatedSettings.map((setting) => setting.name) });
    const first = parseEnvFile(fs.readFileSync(file, 'utf8'));
    const id = first.get('TOWER_KAFKA_CLUSTER_ID');
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(id).not.toBe(kafkaImageDefaultClusterId);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    expect(ensureComposeEnv(file)).toEqual({ added: [] });
    expect(parseEnvFile(fs.readFileSync(file, 'utf8'))).toEqual(first);
  });

  it('adds only what is missing and keeps what an operator wrote', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-compose-env-'));
    const file = path.join(dir, composeEnvFileName);
    fs.writeFileSync(file, '# mine\nCOMPOSE_PROJECT_NAME=tower-prod\n', { mode: 0o644 });
    expect(ensureComposeEnv(file)).toEqual({ added: generatedSettings.map((setting) => setting.name) });
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('# mine\nCOMPOSE_PROJECT_NAME=tower-prod\n')).toBe(true);
    expect(parseEnvFile(text).get('TOWER_KAFKA_CLUSTER_ID')).toBeDefined();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('two deployments never share a cluster id', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-compose-env-'));
    const ids = ['a', 'b'].map((name) => {
      const file = path.join(dir!, name);
      ensureComposeEnv(file);
      return parseEnvFile(fs.readFileSync(file, 'utf8')).get('TOWER_KAFKA_CLUSTER_ID');
    });
    expect(ids[0]).not.toBe(ids[1]);
  });
});
