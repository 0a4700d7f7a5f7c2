/**
 * Generates docker-compose.yml for hosts that have a Docker engine, from the same
 * images, env names, provisioning job (migrations + topic catalog) and service list
 * as the local scripts, so the two cannot drift: a test fails when the committed
 * file differs from what this prints. Prometheus's configuration comes from the same
 * scrape plan as the local stack's (infra/prometheus/scrape.ts), written to
 * infra/prometheus/prometheus.compose.yml and compared the same way. Regenerate with
 * `npm run compose:generate`, which also creates the deployment's own `.env`
 * (compose-env.ts) when it is missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { adminEnv, credentialEnv, serviceIdentities, type InfraCredentials } from '../local/infra-credentials.ts';
import { clickhouseAccessXml, redisAclLines } from '../local/server-users.ts';
import { nodeExporterArguments, redisExporterArguments } from '../local/servers.ts';
import { discoverServices, type ServiceDescription } from '../local/services.ts';
import { repoRoot } from '../local/profiles.ts';
import { composeMonitoring, composePrometheusConfig, composePrometheusConfigFile, composePrometheusPaths, retention } from '../prometheus/scrape.ts';
import { composeEnvFileName, ensureComposeEnv, fromGeneratedEnv } from './compose-env.ts';
import { stopDeadlineMs } from '../../shared/src/lifecycle.ts';
import { clickhouseUsersFile, images, kafkaContainerAdminConfig, kafkaContainerCommand, kafkaContainerEnv, redisContainerCommand } from './images.ts';

type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/**
 * How long Docker waits after SIGTERM before it kills a service's container: a service's
 * Lifecycle ends its whole stop within stopDeadlineMs (50 s), though its parts' own
 * timeouts (10 to 30 s each) sum, in the worst case, to 25 s (clickhouse-exporter), 30 s
 * (simulator), 65 s (ingest), 105 s (aggregator) and 115 s (live, slots); 10 s more for
 * the exit. Docker's default, 10 s, killed services mid-drain.
 */
export const serviceStopGracePeriod = `${Math.ceil(stopDeadlineMs / 1000) + 10}s`;

/** Where provisioning writes credentials (the image's WORKDIR + .local, the services' default paths). */
const credentialsDirectory = '/app/.local';

/** Kafka's volume, and its log dir (records and KRaft metadata); the image makes it writable for its user. */
const kafkaDataDirectory = '/var/lib/kafka/data';

/** Grafana's provisioning (data source, dashboard provider) and the generated dashboards, mounted into its container. */
export const grafanaProvisioning = { provisioning: 'infra/grafana/provisioning', dashboards: 'infra/grafana/dashboards' } as const;

/**
 * The brokers' JMX exporter agent: the kafka-agent job fetches it into a volume with the
 * POM bootstrap.sh uses (infra/kafka/jmx-agent.pom.xml; again only when the POM changed),
 * and the broker loads it with the rules of the local stack (infra/kafka/jmx-exporter.yaml).
 */
export const kafkaAgent = {
  pom: 'infra/kafka/jmx-agent.pom.xml',
  config: 'infra/kafka/jmx-exporter.yaml',
  /** Where the kafka container mounts the agent's volume and its rules. */
  directory: '/opt/tower/agent',
  configTarget: '/opt/tower/jmx-exporter.yaml',
  jar: 'jmx_prometheus_javaagent.jar',
} as const;

/** The kafka-agent job's command: mvn as bootstrap.sh runs it, skipped when the volume holds what this POM fetched. */
const kafkaAgentFetch = [
  'sh',
  '-ec',
  [
    'if cmp -s /tower/jmx-agent.pom.xml /agent/pom.xml; then exit 0; fi',
    'mvn -q -B -f /tower/jmx-agent.pom.xml dependency:copy-dependencies -DoutputDirectory=/agent -DincludeScope=runtime -Dmdep.stripVersion=true',
    'cp /tower/jmx-agent.pom.xml /agent/pom.xml',
  ].join('; '),
];

/** The env every service and the provision job get inside the compose network. */
export const composeEndpoints = {
  KAFKA_BROKERS: 'kafka:29092',
  KAFKA_REPLICATION_FACTOR: '1',
  KAFKA_MIN_INSYNC_REPLICAS: '1',
  CLICKHOUSE_URL: 'http://clickhouse:8123',
  CLICKHOUSE_DATABASE: 'tower',
  REDIS_URL: 'redis://redis:6379',
};

/** The other services a service calls, by their name in the compose network (their defaults are 127.0.0.1: the caller's own container). */
function peerUrls(name: string, services: readonly ServiceDescription[]): Record<string, string> {
  const ingest = services.find((s) => s.name === 'ingest');
  return name === 'simulator' && ingest ? { INGEST_URL: `http://ingest:${ingest.port}` } : {};
}

/**
 * Every user's password as a reference to the deployment's generated .env: the
 * committed file holds none, compose fills them in (and refuses to start without them).
 */
export const composeCredentials: InfraCredentials = {
  kafka: {
    'tower-admin': fromGeneratedEnv('TOWER_KAFKA_ADMIN_PASSWORD'),
    'tower-ingest': fromGeneratedEnv('TOWER_KAFKA_INGEST_PASSWORD'),
    'tower-aggregator': fromGeneratedEnv('TOWER_KAFKA_AGGREGATOR_PASSWORD'),
    'tower-live': fromGeneratedEnv('TOWER_KAFKA_LIVE_PASSWORD'),
    'tower-slots': fromGeneratedEnv('TOWER_KAFKA_SLOTS_PASSWORD'),
  },
  kafkaController: fromGeneratedEnv('TOWER_KAFKA_CONTROLLER_PASSWORD'),
  clickhouse: {
    tower_admin: fromGeneratedEnv('TOWER_CLICKHOUSE_ADMIN_PASSWORD'),
    tower_writer: fromGeneratedEnv('TOWER_CLICKHOUSE_WRITER_PASSWORD'),
    tower_reader: fromGeneratedEnv('TOWER_CLICKHOUSE_READER_PASSWORD'),
    tower_monitor: fromGeneratedEnv('TOWER_CLICKHOUSE_MONITOR_PASSWORD'),
  },
  redis: {
    'tower-admin': fromGeneratedEnv('TOWER_REDIS_ADMIN_PASSWORD'),
    'tower-slots': fromGeneratedEnv('TOWER_REDIS_SLOTS_PASSWORD'),
    'tower-live': fromGeneratedEnv('TOWER_REDIS_LIVE_PASSWORD'),
    'tower-ingest': fromGeneratedEnv('TOWER_REDIS_INGEST_PASSWORD'),
    'tower-monitor': fromGeneratedEnv('TOWER_REDIS_MONITOR_PASSWORD'),
  },
};

/** Redis's ACL file in its container (a compose config: plain passwords, filled in from .env). */
export const redisAclFile = '/run/tower/redis-users.acl';

/** `$` in a command is the container shell's, not compose's interpolation: written `$$`. */
const shellDollars = (part: string) => part.split('$').join('$$');

export function composeDocument(): Yaml {
  const admin = adminEnv(composeCredentials);
  const services: Record<string, Yaml> = {
    'kafka-agent': {
      image: images.maven,
      command: kafkaAgentFetch.map(shellDollars),
      volumes: [`./${kafkaAgent.pom}:/tower/jmx-agent.pom.xml:ro`, 'kafka-agent:/agent'],
      restart: 'no',
    },
    kafka: {
      image: images.kafka,
      environment: {
        ...kafkaContainerEnv({
          listeners: [
            { name: 'INTERNAL', port: 29092, advertised: 'kafka:29092' },
            { name: 'HOST', port: 9092, advertised: '127.0.0.1:9092' },
          ],
          clusterId: fromGeneratedEnv('TOWER_KAFKA_CLUSTER_ID'),
          logDir: kafkaDataDirectory,
          credentials: composeCredentials,
        }),
        // Prometheus scrapes kafka:9404 in the compose network; the port is not published.
        TOWER_KAFKA_JAVAAGENT: `-javaagent:${kafkaAgent.directory}/${kafkaAgent.jar}=${composeMonitoring.kafkaJmx.port}:${kafkaAgent.configTarget}`,
      },
      command: kafkaContainerCommand.map(shellDollars),
      configs: [{ source: 'kafka-jmx-exporter', target: kafkaAgent.configTarget }],
      ports: ['127.0.0.1:9092:9092'],
      volumes: [`kafka-data:${kafkaDataDirectory}`, `kafka-agent:${kafkaAgent.directory}:ro`],
      depends_on: { 'kafka-agent': { condition: 'service_completed_successfully' } },
      healthcheck: {
        test: ['CMD-SHELL', `/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:29092 --command-config ${kafkaContainerAdminConfig} > /dev/null`],
        interval: '5s',
        timeout: '10s',
        retries: 20,
      },
    },
    clickhouse: {
      image: images.clickhouse,
      environment: { CLICKHOUSE_SKIP_USER_SETUP: '1' },
      configs: [{ source: 'clickhouse-users', target: clickhouseUsersFile }],
      ports: ['127.0.0.1:8123:8123'],
      volumes: ['clickhouse-data:/var/lib/clickhouse'],
      ulimits: { nofile: { soft: 262144, hard: 262144 } },
      healthcheck: { test: ['CMD-SHELL', 'wget -qO- http://127.0.0.1:8123/ping | grep -q Ok'], interval: '5s', timeout: '5s', retries: 20 },
    },
    redis: {
      image: images.redis,
      command: [...redisContainerCommand, '--aclfile', redisAclFile],
      configs: [{ source: 'redis-users', target: redisAclFile }],
      // redis-cli reads the password from REDISCLI_AUTH (the healthcheck logs in as the admin).
      environment: { REDISCLI_AUTH: admin.REDIS_PASSWORD },
      ports: ['127.0.0.1:6379:6379'],
      volumes: ['redis-data:/data'],
      healthcheck: { test: ['CMD', 'redis-cli', '--user', admin.REDIS_USERNAME, 'ping'], interval: '5s', timeout: '5s', retries: 20 },
    },
    provision: {
      build: '.',
      command: ['node', '--import', 'tsx', 'infra/provision/main.ts'],
      // Migrations, topics and the services' ACLs: as the administrators.
      environment: { ...composeEndpoints, ...admin },
      // Demo device keys and gateway tokens (and their hashed registries) are written here and read by the services.
      volumes: [`credentials:${credentialsDirectory}`],
      depends_on: { kafka: { condition: 'service_healthy' }, clickhouse: { condition: 'service_healthy' } },
      restart: 'no',
    },
  };
  // The exporters of Redis (as tower-monitor) and of the host, with the local stack's arguments.
  services[composeMonitoring.redisExporter.host] = {
    image: images.redisExporter,
    command: redisExporterArguments('redis:6379'),
    environment: { REDIS_PASSWORD: composeCredentials.redis['tower-monitor'] },
    depends_on: { redis: { condition: 'service_healthy' } },
    restart: 'unless-stopped',
  };
  // The host's figures: its processes and its root filesystem, read-only (the network is the container's).
  services[composeMonitoring.nodeExporter.host] = {
    image: images.nodeExporter,
    command: ['--path.rootfs=/host', ...nodeExporterArguments],
    pid: 'host',
    volumes: ['/:/host:ro,rslave'],
    restart: 'unless-stopped',
  };
  services['prometheus'] = {
    image: images.prometheus,
    command: [
      `--config.file=${composePrometheusPaths.config}`,
      `--storage.tsdb.path=${composePrometheusPaths.data}`,
      `--storage.tsdb.retention.time=${retention.time}`,
      `--storage.tsdb.retention.size=${retention.size}`,
    ],
    // The same scrape plan as the local stack (infra/prometheus/scrape.ts), generated next to this file, and the same rules.
    volumes: [`./${composePrometheusConfigFile}:${composePrometheusPaths.config}:ro`, `./infra/prometheus/rules:${composePrometheusPaths.rules}:ro`, `prometheus-data:${composePrometheusPaths.data}`],
    ports: [`127.0.0.1:${composeMonitoring.prometheus.port}:${composeMonitoring.prometheus.port}`],
    healthcheck: { test: ['CMD', 'wget', '-qO', '/dev/null', `http://127.0.0.1:${composeMonitoring.prometheus.port}/-/ready`], interval: '10s', timeout: '5s', retries: 12 },
    restart: 'unless-stopped',
  };
  services['grafana'] = {
    image: images.grafana,
    environment: {
      GF_SECURITY_ADMIN_PASSWORD: fromGeneratedEnv('TOWER_GRAFANA_ADMIN_PASSWORD'),
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    },
    // The Prometheus data source and the dashboards generated into infra/grafana (infra/grafana/dashboards.ts).
    volumes: [`./${grafanaProvisioning.provisioning}:/etc/grafana/provisioning:ro`, `./${grafanaProvisioning.dashboards}:/var/lib/grafana/dashboards:ro`, 'grafana-data:/var/lib/grafana'],
    ports: [`127.0.0.1:${composeMonitoring.grafana.port}:${composeMonitoring.grafana.port}`],
    depends_on: { prometheus: { condition: 'service_healthy' } },
    restart: 'unless-stopped',
  };
  const discovered = discoverServices();
  for (const service of discovered) {
    services[service.name] = {
      build: '.',
      command: ['node', ...service.nodeArgs, '--import', 'tsx', path.relative(repoRoot, service.main)],
      // HOST 0.0.0.0: its default, 127.0.0.1, is the container's own loopback, which neither the
      // published port nor Prometheus (scraping <service>:<port> over the compose network) reaches.
      environment: { ...composeEndpoints, ...credentialEnv(composeCredentials, serviceIdentities[service.name] ?? {}), HOST: '0.0.0.0', PORT: String(service.port), ...peerUrls(service.name, discovered) },
      volumes: [`credentials:${credentialsDirectory}`],
      ports: [`127.0.0.1:${service.port}:${service.port}`],
      depends_on: { provision: { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } },
      healthcheck: {
        test: ['CMD-SHELL', `node -e "fetch('http://127.0.0.1:${service.port}/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`],
        interval: '10s',
        timeout: '5s',
        retries: 6,
      },
      stop_grace_period: serviceStopGracePeriod,
      restart: 'unless-stopped',
    };
  }
  return {
    name: 'mongcai-tower',
    services,
    // The users of ClickHouse and Redis; compose fills in the passwords from .env when it starts them.
    configs: {
      'clickhouse-users': { content: `<clickhouse>\n${clickhouseAccessXml(composeCredentials, 'plain')}\n</clickhouse>\n` },
      'redis-users': { content: `${redisAclLines(composeCredentials, 'plain').join('\n')}\n` },
      'kafka-jmx-exporter': { file: `./${kafkaAgent.config}` },
    },
    volumes: { 'kafka-data': {}, 'kafka-agent': {}, 'clickhouse-data': {}, 'redis-data': {}, credentials: {}, 'prometheus-data': {}, 'grafana-data': {} },
  };
}

export function composeFile(): string {
  // YAML 1.1 quoting, so that values such as "yes" stay strings for every Compose implementation.
  const body = stringify(composeDocument(), { version: '1.1', lineWidth: 0 });
  return `# Generated by infra/containers/compose.ts (npm run compose:generate); do not edit by hand.\n${body}`;
}

if (process.argv[1] === import.meta.filename) {
  fs.writeFileSync(path.join(repoRoot, 'docker-compose.yml'), composeFile());
  fs.writeFileSync(path.join(repoRoot, composePrometheusConfigFile), composePrometheusConfig());
  const { added } = ensureComposeEnv(path.join(repoRoot, composeEnvFileName));
  const envNote = added.length > 0 ? `; ${composeEnvFileName} now holds ${added.join(', ')}` : '';
  process.stdout.write(`docker-compose.yml and ${composePrometheusConfigFile} written${envNote}\n`);
}
