import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { redisPersistence } from '../containers/images.ts';
import { prometheusFiles, retention, writePrometheusConfig } from '../prometheus/scrape.ts';
import { ensureInfraCredentials, infraCredentialsFile, type InfraCredentials } from './infra-credentials.ts';
import { clickhouseAccessXml, kafkaScramArguments, kafkaSecurityProperties, kafkaUsersFingerprint, redisAclLines } from './server-users.ts';
import { repoRoot, resolveProfile, type InfraProfile, type KafkaNode } from './profiles.ts';
import type { ServerSpec } from './supervisor.ts';

const run = promisify(execFile);

function writeIfChanged(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Configurations hold password hashes (Kafka's, the admin's password): the owner's only.
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content) fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

// --- Kafka (KRaft, combined broker + controller per node) -------------------

/**
 * Clients log in with SASL/SCRAM-SHA-512 (users stored in the metadata log, added when
 * the storage is formatted) and the StandardAuthorizer allows only what the ACLs say
 * (shared/src/kafka/acls.ts, applied by provisioning). SCRAM cannot be used between
 * brokers and controllers (its users live in the metadata the controllers serve), so
 * the controller listener uses SASL PLAIN with its one login in this file (mode 0600).
 */
function kafkaProperties(profile: InfraProfile, node: KafkaNode, credentials: InfraCredentials): string {
  const voters = profile.kafka.nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
  const rf = profile.kafka.replicationFactor;
  return [
    '# Rendered by infra/local/servers.ts; edits are overwritten.',
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${voters}`,
    // 127.0.0.1, not localhost: Node may resolve localhost to ::1.
    `listeners=SASL_PLAINTEXT://127.0.0.1:${node.brokerPort},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${node.brokerPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    ...kafkaSecurityProperties(credentials),
    `log.dirs=${node.dataDir}/log`,
    'num.partitions=6',
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${profile.kafka.minInsyncReplicas}`,
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=12',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${profile.kafka.minInsyncReplicas}`,
    'group.initial.rebalance.delay.ms=0',
    // Topics come from the catalog (shared/src/kafka/topic-catalog.ts), never by accident.
    'auto.create.topics.enable=false',
    'log.retention.hours=168',
    'log.segment.bytes=134217728',
    'num.network.threads=2',
    'num.io.threads=4',
    '',
  ].join('\n');
}

function clusterIdFile(profile: InfraProfile): string {
  return path.join(profile.root, `kafka-${profile.kafkaMode}`, 'cluster.id');
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` makes them.
 * Like Kafka's own `Uuid.randomUuid`, an id starting with `-` is drawn again: command-line parsers read it as an option.
 */
export function newClusterId(randomId: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = randomId().toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function clusterId(profile: InfraProfile): string {
  const file = clusterIdFile(profile);
  if (!fs.existsSync(file)) writeIfChanged(file, newClusterId());
  return fs.readFileSync(file, 'utf8').trim();
}

const javaClasspath = (profile: InfraProfile) => `${profile.kafka.libDir}/*`;

/** The Prometheus JMX exporter java agent (infra/kafka/jmx-agent.pom.xml, fetched by bootstrap.sh next to Kafka's jars) and its rules. */
const jmxAgentJar = (profile: InfraProfile) => path.join(path.dirname(profile.kafka.libDir), 'agent', 'jmx_prometheus_javaagent.jar');
const jmxExporterConfig = path.join(repoRoot, 'infra/kafka/jmx-exporter.yaml');

/** Where a node's JMX exporter agent serves `/metrics`: the profile's base port plus the node's index. */
const kafkaJmxPort = (profile: InfraProfile, node: KafkaNode): number => profile.monitoring.kafkaJmxBasePort + profile.kafka.nodes.indexOf(node);

function kafkaNodeSpec(profile: InfraProfile, node: KafkaNode, credentials: InfraCredentials): ServerSpec {
  const propertiesFile = path.join(node.dataDir, 'server.properties');
  const nodeLabel = profile.kafka.nodes.length > 1 ? `Kafka node ${node.id}` : 'Kafka';
  const jmxPort = kafkaJmxPort(profile, node);
  return {
    name: `kafka-${profile.kafkaMode}-${node.id}`,
    label: nodeLabel,
    command: 'java',
    args: [
      `-Xms256m`,
      `-Xmx${profile.kafka.heap}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${path.join(repoRoot, 'infra/kafka/log4j2.yaml')}`,
      `-Dtower.profile=${profile.root}`,
      // Only the broker loads the agent: the storage tool below runs without it.
      `-javaagent:${jmxAgentJar(profile)}=127.0.0.1:${jmxPort}:${jmxExporterConfig}`,
      '-cp',
      javaClasspath(profile),
      'kafka.Kafka',
      propertiesFile,
    ],
    ports: [
      { port: node.brokerPort, role: 'broker' },
      { port: node.controllerPort, role: 'controller' },
      { port: jmxPort, role: 'metrics' },
    ],
    profileRoot: profile.root,
    async prepare() {
      // SCRAM users are written when the storage is formatted: data from before the users, or formatted with other passwords, cannot log them in.
      const scramMarker = path.join(node.dataDir, 'log', 'tower-scram-users');
      const fingerprint = kafkaUsersFingerprint(credentials);
      const formatted = fs.existsSync(path.join(node.dataDir, 'log', 'meta.properties'));
      const formattedWith = fs.existsSync(scramMarker) ? fs.readFileSync(scramMarker, 'utf8').trim() : undefined;
      if (formatted && formattedWith !== fingerprint) {
        const why = formattedWith === undefined ? 'before Kafka had users (SASL/SCRAM)' : `with other Kafka passwords than those in ${infraCredentialsFile(profile.root)}`;
        throw new Error(
          `Kafka's data in ${node.dataDir} was formatted ${why}, so no user can log in. Reset Kafka's data (its topics and messages are lost): ` +
            `npm run infra:down${profile.name === 'dev' ? '' : ` -- --profile ${profile.name}`} && rm -rf ${path.dirname(node.dataDir)}`,
        );
      }
      if (!fs.existsSync(path.join(profile.kafka.libDir, `kafka-clients-${kafkaVersion()}.jar`))) {
        throw new Error(`Kafka's jars are missing in ${profile.kafka.libDir}; run infra/local/bootstrap.sh`);
      }
      if (!fs.existsSync(jmxAgentJar(profile))) throw new Error(`The JMX exporter agent ${jmxAgentJar(profile)} is missing; run infra/local/bootstrap.sh`);
      writeIfChanged(propertiesFile, kafkaProperties(profile, node, credentials));
      if (formatted) return;
      await run('java', ['-cp', javaClasspath(profile), 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId(profile)}`, '-c', propertiesFile, ...kafkaScramArguments(credentials)], {
        timeout: 60_000,
      });
      writeIfChanged(scramMarker, `${fingerprint}\n`);
    },
    // Ready when this node's broker answers metadata and sees the whole cluster.
    isReady: () => kafkaClusterAnswers([`127.0.0.1:${node.brokerPort}`], profile.kafka.nodes.length, credentials.kafka['tower-admin']),
    readyTimeoutMs: 90_000,
    stopTimeoutMs: 30_000,
  };
}

export function kafkaVersion(): string {
  const pom = fs.readFileSync(path.join(repoRoot, 'infra/kafka/pom.xml'), 'utf8');
  const match = /<kafka\.version>([^<]+)</.exec(pom);
  if (!match?.[1]) throw new Error('infra/kafka/pom.xml has no <kafka.version>');
  return match[1];
}

export async function kafkaClusterAnswers(brokers: string[], expectedBrokers: number, adminPassword: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'tower-infra',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
    sasl: { mechanism: 'scram-sha-512', username: 'tower-admin', password: adminPassword },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= expectedBrokers;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// --- ClickHouse ---------------------------------------------------------------

function clickhouseConfig(profile: InfraProfile, credentials: InfraCredentials): string {
  const dir = profile.clickhouse.dataDir;
  // Element names that exist in 18.16 and in current releases alike.
  return `<?xml version="1.0"?>
<!-- Rendered by infra/local/servers.ts; edits are overwritten. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <http_port>${profile.clickhouse.httpPort}</http_port>
  <tcp_port>${profile.clickhouse.tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <mark_cache_size>536870912</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
${clickhouseAccessXml(credentials)}
  <quotas><default></default></quotas>
</yandex>
`;
}

/**
 * Removes the half-written parts a killed ClickHouse left in its tables (`tmp_merge_…`,
 * `tmp_insert_…`, `tmp_mut_…` beside the parts), before it starts again. ClickHouse 18.16
 * clears them only once they are a day old (`temporary_directories_lifetime`) and until
 * then retries the same merge forever, failing with "Directory … already exists"; a
 * mutation waiting for those parts (the aggregator's repair deletes windows with one)
 * never finishes. Current releases clear them when they load a table; with the server
 * stopped nothing is using them. Returns the directories removed.
 */
export function removeCrashedPartTemporaries(dataDir: string): string[] {
  const removed: string[] = [];
  const tablesRoot = path.join(dataDir, 'data', 'data');
  const entries = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()) : []);
  for (const database of entries(tablesRoot)) {
    for (const table of entries(path.join(tablesRoot, database.name))) {
      for (const part of entries(path.join(tablesRoot, database.name, table.name))) {
        if (!part.name.startsWith('tmp_')) continue;
        const dir = path.join(tablesRoot, database.name, table.name, part.name);
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
  }
  return removed;
}

function clickhouseSpec(profile: InfraProfile, credentials: InfraCredentials): ServerSpec {
  const configFile = path.join(profile.clickhouse.dataDir, 'config.xml');
  return {
    name: 'clickhouse',
    label: 'ClickHouse',
    command: 'clickhouse-server',
    args: [`--config-file=${configFile}`],
    ports: [
      { port: profile.clickhouse.httpPort, role: 'HTTP' },
      { port: profile.clickhouse.tcpPort, role: 'native' },
    ],
    profileRoot: profile.root,
    async prepare() {
      for (const sub of ['data', 'tmp', 'log', 'user_files', 'format_schemas']) {
        fs.mkdirSync(path.join(profile.clickhouse.dataDir, sub), { recursive: true });
      }
      writeIfChanged(configFile, clickhouseConfig(profile, credentials));
      removeCrashedPartTemporaries(profile.clickhouse.dataDir);
    },
    // A user added since it started (tower_monitor): it re-reads its users from the
    // rewritten file within seconds, no restart (18.16 and current alike).
    async reconfigure() {
      writeIfChanged(configFile, clickhouseConfig(profile, credentials));
    },
    // Ready when the administrator's query answers (`/ping` needs no login).
    isReady: async () => {
      const login = Buffer.from(`tower_admin:${credentials.clickhouse.tower_admin}`).toString('base64');
      const response = await fetch(`http://127.0.0.1:${profile.clickhouse.httpPort}/?query=SELECT%201`, { headers: { authorization: `Basic ${login}` }, signal: AbortSignal.timeout(1000) });
      return response.ok && (await response.text()).trim() === '1';
    },
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 20_000,
  };
}

// --- Redis ----------------------------------------------------------------------

function redisConfig(profile: InfraProfile, credentials: InfraCredentials): string {
  return [
    '# Rendered by infra/local/servers.ts; edits are overwritten.',
    'bind 127.0.0.1 -::1',
    `port ${profile.redis.port}`,
    'protected-mode yes',
    'daemonize no',
    `dir ${profile.redis.dataDir}`,
    // Bookings must survive a crash: the same persistence as the containers (AOF fsync'd before each answer).
    ...redisPersistence.map(([name, value]) => `${name} ${value}`),
    'loglevel warning',
    'logfile ""',
    ...redisAclLines(credentials),
    '',
  ].join('\n');
}

function redisSpec(profile: InfraProfile, credentials: InfraCredentials): ServerSpec {
  const configFile = path.join(profile.redis.dataDir, 'redis.conf');
  return {
    name: 'redis',
    label: 'Redis',
    command: 'redis-server',
    args: [configFile],
    ports: [{ port: profile.redis.port, role: 'RESP' }],
    profileRoot: profile.root,
    async prepare() {
      writeIfChanged(configFile, redisConfig(profile, credentials));
    },
    // Users changed since it started (a password, a user's rights, a user no longer listed): set live, no restart.
    async reconfigure() {
      writeIfChanged(configFile, redisConfig(profile, credentials));
      await applyRedisUsers(profile.redis.port, credentials);
    },
    isReady: () => redisAnswersPing(profile.redis.port, credentials.redis['tower-admin']),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 20_000,
  };
}

/**
 * Makes a running Redis's users exactly `redisAclLines`, logged in as tower-admin: each
 * listed user reset and set again in one command (`ACL SETUSER <name> reset <rules>`,
 * all or nothing per user), then every user not listed deleted. The users live in
 * redis.conf, not in an ACL file, so `ACL LOAD` cannot re-read them; the rewritten
 * redis.conf holds the same users for the next start. A Redis started with another
 * tower-admin password refuses the login: stop it and start again.
 */
async function applyRedisUsers(port: number, credentials: InfraCredentials): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port, username: 'tower-admin', password: credentials.redis['tower-admin'], lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  let refusal: Error | undefined;
  redis.on('error', (error: Error) => (refusal ??= error));
  try {
    await redis.connect().catch((error: unknown) => {
      throw new Error(`Redis on port ${port} refuses tower-admin's login (${(refusal ?? (error as Error)).message}): it was started with other credentials; stop it (npm run infra:down) and start it again`);
    });
    const users = redisAclLines(credentials).map((line) => line.split(' ').slice(1));
    for (const [name, ...rules] of users) await redis.call('ACL', 'SETUSER', name!, 'reset', ...rules);
    const listed = new Set(users.map(([name]) => name));
    for (const user of (await redis.call('ACL', 'USERS')) as string[]) if (!listed.has(user)) await redis.call('ACL', 'DELUSER', user);
  } finally {
    redis.disconnect();
  }
}

/** Ready when the admin logs in and PING answers (a server without our users refuses the login). */
function redisAnswersPing(port: number, adminPassword: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write(`AUTH tower-admin ${adminPassword}\r\nPING\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.split('\r\n').length > 2) done(reply === '+OK\r\n+PONG\r\n');
    });
    socket.once('error', () => done(false));
  });
}

// --- Prometheus (Debian's 2.42) ------------------------------------------------

/**
 * Scrapes every service and exporter of the profile (infra/prometheus/scrape.ts) and
 * evaluates infra/prometheus/rules/*.yml; data under `.local/<profile>/prometheus/data`.
 * No lifecycle API: a running Prometheus is reconfigured with SIGHUP.
 */
function prometheusSpec(profile: InfraProfile): ServerSpec {
  const files = prometheusFiles(profile);
  const port = profile.monitoring.prometheusPort;
  return {
    name: 'prometheus',
    label: 'Prometheus',
    command: 'prometheus',
    args: [
      `--config.file=${files.config}`,
      `--storage.tsdb.path=${files.data}`,
      `--storage.tsdb.retention.time=${retention.time}`,
      `--storage.tsdb.retention.size=${retention.size}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    ports: [{ port, role: 'HTTP' }],
    profileRoot: profile.root,
    startsAfterOthers: true,
    runningNotReadyHint: `it may still be replaying its write-ahead log in ${files.data}; see npm run infra:logs --${profile.name === 'dev' ? '' : ` --profile ${profile.name}`} prometheus`,
    async prepare() {
      fs.mkdirSync(files.data, { recursive: true });
      writePrometheusConfig(profile);
    },
    // The services or the rules may have changed since it started: SIGHUP re-reads both.
    async reconfigure(pid) {
      writePrometheusConfig(profile);
      process.kill(pid, 'SIGHUP');
    },
    isReady: async () => (await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 20_000,
  };
}

// --- Exporters: Redis's and the host's figures for Prometheus (Debian's packages) ----

/**
 * An exporter (Debian's package) serving `/metrics` on 127.0.0.1:`port`. Ready when
 * `/metrics` answers: what it says about its server is Prometheus's business (`redis_up`).
 */
function exporterSpec(profile: InfraProfile, exporter: { name: string; label: string; command: string; port: number; args: string[]; env?: Record<string, string> }): ServerSpec {
  const { port, args, ...rest } = exporter;
  return {
    ...rest,
    args: [`--web.listen-address=127.0.0.1:${port}`, ...args],
    ports: [{ port, role: 'metrics' }],
    profileRoot: profile.root,
    async prepare() {},
    isReady: async () => (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).ok,
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 10_000,
  };
}

/** The Redis exporter's arguments but its address (compose runs the same in the official image); the password comes in REDIS_PASSWORD. */
export const redisExporterArguments = (redis: string): string[] => [`--redis.addr=redis://${redis}`, '--redis.user=tower-monitor', '--redis-only-metrics'];

/**
 * Debian's prometheus-redis-exporter, logged in as tower-monitor (server-users.ts: INFO and
 * the like, no key). The password goes in its environment, not its arguments (which any
 * user of the machine can read); no Go runtime metrics.
 */
const redisExporterSpec = (profile: InfraProfile, credentials: InfraCredentials): ServerSpec =>
  exporterSpec(profile, {
    name: 'redis-exporter',
    label: 'Redis exporter',
    command: 'prometheus-redis-exporter',
    port: profile.monitoring.redisExporterPort,
    args: redisExporterArguments(`127.0.0.1:${profile.redis.port}`),
    env: { REDIS_PASSWORD: credentials.redis['tower-monitor'] },
  });

/**
 * The collectors the node exporter runs: CPU, memory, disks and filesystems, load and
 * pressure stall, network, file descriptors, vmstat (OOM kills), uname. Every other
 * (the textfile directory among them) is off.
 */
export const nodeExporterCollectors = ['cpu', 'meminfo', 'loadavg', 'pressure', 'vmstat', 'filesystem', 'diskstats', 'netdev', 'filefd', 'uname'] as const;

/** The node exporter's arguments but its address (compose runs the same in the official image). */
export const nodeExporterArguments = ['--collector.disable-defaults', ...nodeExporterCollectors.map((c) => `--collector.${c}`)];

/** Debian's prometheus-node-exporter: the host's CPU, memory, disks and network. */
const nodeExporterSpec = (profile: InfraProfile): ServerSpec =>
  exporterSpec(profile, { name: 'node-exporter', label: 'Node exporter', command: 'prometheus-node-exporter', port: profile.monitoring.nodeExporterPort, args: nodeExporterArguments });

/** Every local server of a profile, in start order. */
export function serversOf(profile: InfraProfile, credentials: InfraCredentials = ensureInfraCredentials(profile.root)): ServerSpec[] {
  // Readiness logs in as the administrator: a server left running from before the users (or other passwords) never gets ready.
  const runningNotReadyHint = `its readiness check logs in with ${infraCredentialsFile(profile.root)}; a server started before the infrastructure users (or with other passwords) refuses that: restart it with npm run infra:down${profile.name === 'dev' ? '' : ` -- --profile ${profile.name}`}`;
  return [redisSpec(profile, credentials), clickhouseSpec(profile, credentials), ...profile.kafka.nodes.map((node) => kafkaNodeSpec(profile, node, credentials)), redisExporterSpec(profile, credentials), nodeExporterSpec(profile), prometheusSpec(profile)].map((spec) => ({ runningNotReadyHint, ...spec }));
}

/**
 * One extra single-node Kafka with its own ports (broker `brokerPort`, controller
 * `brokerPort + 1`, JMX exporter agent `jmxPort`) and data under `root`, for tests that
 * stop Kafka on purpose or read its metrics without disturbing the shared test broker.
 */
export function standaloneKafkaSpec(root: string, brokerPort: number, credentials: InfraCredentials, jmxPort = brokerPort + 2): ServerSpec {
  const base = resolveProfile('test');
  const node: KafkaNode = { id: 1, brokerPort, controllerPort: brokerPort + 1, dataDir: path.join(root, 'kafka') };
  const profile: InfraProfile = {
    ...base,
    root,
    kafka: { ...base.kafka, nodes: [node], replicationFactor: 1, minInsyncReplicas: 1 },
    monitoring: { ...base.monitoring, kafkaJmxBasePort: jmxPort },
  };
  return kafkaNodeSpec(profile, node, credentials);
}

/**
 * An extra 3-node KRaft cluster configured as the `--cluster` mode (RF 3,
 * `min.insync.replicas=2`, its modest heap) on its own ports: node i's broker on
 * `basePort + 2i`, its controller on the next port, the JMX exporter agents on
 * `basePort + 6 + i`; data under `root`. For drills that kill brokers. The nodes must
 * start together: each is ready only once it sees all three.
 */
export function standaloneKafkaClusterSpecs(root: string, basePort: number, credentials: InfraCredentials): ServerSpec[] {
  const base = resolveProfile('test', 'cluster');
  const nodes = base.kafka.nodes.map((node, i): KafkaNode => ({ ...node, brokerPort: basePort + 2 * i, controllerPort: basePort + 2 * i + 1, dataDir: path.join(root, 'kafka-cluster', `node-${node.id}`) }));
  const profile: InfraProfile = { ...base, root, kafka: { ...base.kafka, nodes }, monitoring: { ...base.monitoring, kafkaJmxBasePort: basePort + 2 * nodes.length } };
  return nodes.map((node) => kafkaNodeSpec(profile, node, credentials));
}

/**
 * One extra Redis (same configuration: AOF fsync'd before each answer) on `port` with
 * its data under `root`, for tests that kill Redis on purpose.
 */
export function standaloneRedisSpec(root: string, port: number, credentials: InfraCredentials): ServerSpec {
  const base = resolveProfile('test');
  return redisSpec({ ...base, root, redis: { ...base.redis, port, dataDir: path.join(root, 'redis') } }, credentials);
}

/** The Redis exporter on `port` for a Redis on `redisPort`, pid and log under `root`, for tests of what it can read. */
export function standaloneRedisExporterSpec(root: string, port: number, redisPort: number, credentials: InfraCredentials): ServerSpec {
  const base = resolveProfile('test');
  return redisExporterSpec({ ...base, root, redis: { ...base.redis, port: redisPort }, monitoring: { ...base.monitoring, redisExporterPort: port } }, credentials);
}

/** The node exporter on `port`, pid and log under `root`. */
export function standaloneNodeExporterSpec(root: string, port: number): ServerSpec {
  const base = resolveProfile('test');
  return nodeExporterSpec({ ...base, root, monitoring: { ...base.monitoring, nodeExporterPort: port } });
}

/**
 * One extra ClickHouse with its own ports (`httpPort`, `httpPort + 1` native) and data
 * under `root`, for tests that stop ClickHouse on purpose without disturbing the shared one.
 */
export function standaloneClickHouseSpec(root: string, httpPort: number, credentials: InfraCredentials): ServerSpec {
  const base = resolveProfile('test');
  const profile: InfraProfile = { ...base, root, clickhouse: { httpPort, tcpPort: httpPort + 1, dataDir: path.join(root, 'clickhouse') } };
  return clickhouseSpec(profile, credentials);
}
