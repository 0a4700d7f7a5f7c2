/**
 * Container images and their settings, shared by docker-compose.yml (generated from
 * this), the test harness's testcontainers path and, for Redis persistence, the local
 * processes (infra/local/servers.ts), so all three run the servers the same way.
 *
 * Every tag is a patch release (a moving tag such as `7.4` would change what a
 * rebuilt deployment runs). Kafka stays on the 4.1 line the local stack and the
 * integration tests run (infra/kafka/pom.xml); ClickHouse on an LTS line; Redis on the
 * 7.4 line; Node on the current Active LTS (the code also runs on Node 20).
 */
import type { InfraCredentials } from '../local/infra-credentials.ts';
import { kafkaAdminJaas, kafkaScramArguments, kafkaSecurityProperties, redisAclLines } from '../local/server-users.ts';

export const images = {
  kafka: 'apache/kafka:4.1.2',
  clickhouse: 'clickhouse/clickhouse-server:26.3.21.7',
  redis: 'redis:7.4.10',
  /** Prometheus and Grafana (compose only; the local stack runs Debian's Prometheus 2.42, the same scrape plan and rules). */
  prometheus: 'prom/prometheus:v3.16.0',
  grafana: 'grafana/grafana:13.2.3',
  /** The exporters (compose only; the local stack runs Debian's, with the same arguments: infra/local/servers.ts). */
  redisExporter: 'oliver006/redis_exporter:v1.90.0',
  nodeExporter: 'prom/node-exporter:v1.10.0',
  /** Fetches the brokers' JMX exporter agent from Maven Central with infra/kafka/jmx-agent.pom.xml, as bootstrap.sh does locally. */
  maven: 'maven:3.9.11-eclipse-temurin-21',
  /** The base of the services' image (Dockerfile). */
  node: 'node:26.13.0-trixie-slim',
} as const;

/**
 * The fallback CLUSTER_ID of the apache/kafka image (docker/resources/common-scripts/
 * configureDefaults in apache/kafka): every deployment that does not set its own shares it.
 */
export const kafkaImageDefaultClusterId = '5L6g3nShT-eMCtK--X86sw';

export interface KafkaListener {
  /** Listener name, e.g. PLAINTEXT, or INTERNAL and HOST when containers and the host both connect. */
  name: string;
  port: number;
  /** host:port that clients of this listener are told to use. */
  advertised: string;
}

export interface KafkaContainerSettings {
  listeners: KafkaListener[];
  /** The KRaft cluster id the storage is formatted with (the image's default is shared by everyone). */
  clusterId: string;
  /**
   * Where the broker keeps its log, and with it the KRaft metadata log. The image's
   * default is /tmp/kraft-combined-logs, outside any volume: a recreated container
   * would start empty.
   */
  logDir: string;
  /** The users' passwords (server-users.ts): every client listener is SASL_PLAINTEXT with SCRAM, ACLs on. */
  credentials: InfraCredentials;
}

/** A broker property as the apache/kafka image's environment variable: `.` → `_`, `_` → `__`, `-` → `___`. */
export const kafkaPropertyEnvName = (property: string): string => `KAFKA_${property.replace(/_/g, '__').replace(/-/g, '___').replace(/\./g, '_').toUpperCase()}`;

/**
 * Single-node KRaft broker+controller with the given client listeners and the local
 * servers' security (server-users.ts) as the image's environment variables.
 */
export function kafkaContainerEnv({ listeners, clusterId, logDir, credentials }: KafkaContainerSettings): Record<string, string> {
  const security = kafkaSecurityProperties(
    credentials,
    listeners.map((l) => l.name),
  ).map((line) => [kafkaPropertyEnvName(line.slice(0, line.indexOf('='))), line.slice(line.indexOf('=') + 1)]);
  return {
    CLUSTER_ID: clusterId,
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: [...listeners.map((l) => `${l.name}://0.0.0.0:${l.port}`), 'CONTROLLER://0.0.0.0:9093'].join(','),
    KAFKA_ADVERTISED_LISTENERS: listeners.map((l) => `${l.name}://${l.advertised}`).join(','),
    KAFKA_INTER_BROKER_LISTENER_NAME: listeners[0]?.name ?? 'PLAINTEXT',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: [...listeners.map((l) => `${l.name}:SASL_PLAINTEXT`), 'CONTROLLER:SASL_PLAINTEXT'].join(','),
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
    KAFKA_LOG_DIRS: logDir,
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_NUM_PARTITIONS: '6',
    ...Object.fromEntries(security),
    TOWER_KAFKA_SCRAM_USERS: kafkaScramArguments(credentials).join(' '),
    TOWER_KAFKA_ADMIN_JAAS: kafkaAdminJaas(credentials),
  };
}

/**
 * The Kafka container's command. The image formats its storage without SCRAM users, so
 * this formats it first (the same cluster id, node and log dir; the listeners only
 * satisfy the format tool; `--ignore-formatted` on
 * a restart) with every principal's SCRAM credential, writes the admin's client config
 * for the healthcheck (/tmp/tower-admin.properties), then runs the image's own start
 * script, which finds the storage formatted. `set -f`: `[` `]` in the SCRAM arguments
 * are not globs. Where TOWER_KAFKA_JAVAAGENT is set (compose: the JMX exporter agent),
 * it joins KAFKA_OPTS for the broker only: KAFKA_OPTS in the container's environment
 * would load the agent into the healthcheck's tools too, which fail to bind its port.
 */
export const kafkaContainerCommand = [
  'bash',
  '-c',
  [
    'set -ef',
    'printf "process.roles=broker,controller\\nnode.id=1\\ncontroller.quorum.voters=1@localhost:9093\\ncontroller.listener.names=CONTROLLER\\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093\\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\\nlog.dirs=%s\\n" "$KAFKA_LOG_DIRS" > /tmp/tower-format.properties',
    '/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" -c /tmp/tower-format.properties $TOWER_KAFKA_SCRAM_USERS',
    'printf "security.protocol=SASL_PLAINTEXT\\nsasl.mechanism=SCRAM-SHA-512\\nsasl.jaas.config=%s\\n" "$TOWER_KAFKA_ADMIN_JAAS" > /tmp/tower-admin.properties',
    'if [ -n "${TOWER_KAFKA_JAVAAGENT:-}" ]; then export KAFKA_OPTS="${KAFKA_OPTS:-} $TOWER_KAFKA_JAVAAGENT"; fi',
    'exec /etc/kafka/docker/run',
  ].join('; '),
];

/** The admin's client config (written by the command above), for tools in the container such as the healthcheck. */
export const kafkaContainerAdminConfig = '/tmp/tower-admin.properties';

/**
 * Redis persistence, as `redis.conf` directives. Bookings must survive a crash:
 * append-only file fsync'd before Redis answers a write (Redis groups the fsync of one
 * event-loop turn's writes), plus snapshots; never evict.
 */
export const redisPersistence: readonly (readonly [string, string])[] = [
  ['appendonly', 'yes'],
  ['appendfsync', 'always'],
  ['save', '900 1 300 10 60 10000'],
  ['maxmemory-policy', 'noeviction'],
];

/** `redis-server --appendonly yes …`: the persistence directives as command-line options. */
export const redisContainerCommand = [
  'redis-server',
  ...redisPersistence.flatMap(([name, value]) => [`--${name}`, ...value.split(' ')]),
];

/** ClickHouse's users (users.d file of the container). */
export const clickhouseUsersFile = '/etc/clickhouse-server/users.d/tower-users.xml';

/** `redis-server` arguments for the ACL users (each config line as `--user …`). */
export function redisAclArguments(credentials: InfraCredentials): string[] {
  return redisAclLines(credentials).flatMap((line) => {
    const [directive, ...args] = line.split(' ');
    return [`--${directive}`, ...args];
  });
}
