/**
 * Container images and their environment, shared by docker-compose.yml (generated
 * from this) and the test harness's testcontainers path, so both run the same
 * servers with the same settings as the local processes.
 */
import type { InfraCredentials } from '../local/infra-credentials.ts';
import { kafkaScramArguments, kafkaSecurityProperties, redisAclLines } from '../local/server-users.ts';

export const images = {
  kafka: 'apache/kafka:4.1.1',
  clickhouse: 'clickhouse/clickhouse-server:25.8',
  redis: 'redis:7.4',
} as const;

export interface KafkaListener {
  /** Listener name, e.g. PLAINTEXT, or INTERNAL and HOST when containers and the host both connect. */
  name: string;
  port: number;
  /** host:port that clients of this listener are told to use. */
  advertised: string;
}

/** Single-node KRaft broker+controller with the given client listeners. */
export function kafkaContainerEnv(listeners: KafkaListener[]): Record<string, string> {
  return {
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: [...listeners.map((l) => `${l.name}://0.0.0.0:${l.port}`), 'CONTROLLER://0.0.0.0:9093'].join(','),
    KAFKA_ADVERTISED_LISTENERS: listeners.map((l) => `${l.name}://${l.advertised}`).join(','),
    KAFKA_INTER_BROKER_LISTENER_NAME: listeners[0]?.name ?? 'PLAINTEXT',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: [...listeners.map((l) => `${l.name}:PLAINTEXT`), 'CONTROLLER:PLAINTEXT'].join(','),
    KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_NUM_PARTITIONS: '6',
  };
}

export const redisContainerCommand = ['redis-server', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];

/**
 * The single-node Kafka container with the local servers' users and ACL authorizer
 * (server-users.ts): its server.properties, rendered here, replaces the image's
 * env-based configuration because the image cannot add SCRAM users when it formats
 * the storage. Every client listener is SASL_PLAINTEXT.
 */
export function kafkaContainerProperties(listeners: KafkaListener[], credentials: InfraCredentials): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    'controller.quorum.voters=1@localhost:9093',
    `listeners=${[...listeners.map((l) => `${l.name}://0.0.0.0:${l.port}`), 'CONTROLLER://0.0.0.0:9093'].join(',')}`,
    `advertised.listeners=${listeners.map((l) => `${l.name}://${l.advertised}`).join(',')}`,
    `inter.broker.listener.name=${listeners[0]?.name ?? 'SASL_PLAINTEXT'}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${[...listeners.map((l) => `${l.name}:SASL_PLAINTEXT`), 'CONTROLLER:SASL_PLAINTEXT'].join(',')}`,
    ...kafkaSecurityProperties(
      credentials,
      listeners.map((l) => l.name),
    ),
    'log.dirs=/var/lib/kafka/data',
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/**
 * The Kafka container's command: writes the properties from TOWER_KAFKA_PROPERTIES,
 * formats the storage once (with the SCRAM users; `--ignore-formatted` on a restart),
 * starts the broker. `set -f`: the SCRAM arguments hold `[` `]`, which are not globs here.
 */
export const kafkaContainerCommand = [
  'bash',
  '-c',
  'set -ef; printf "%s" "$TOWER_KAFKA_PROPERTIES" > /tmp/server.properties; ' +
    '/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$TOWER_KAFKA_CLUSTER_ID" -c /tmp/server.properties $TOWER_KAFKA_SCRAM_USERS; ' +
    'exec /opt/kafka/bin/kafka-server-start.sh /tmp/server.properties',
];

export function kafkaSecureContainerEnv(listeners: KafkaListener[], credentials: InfraCredentials, clusterId: string): Record<string, string> {
  return {
    TOWER_KAFKA_PROPERTIES: kafkaContainerProperties(listeners, credentials),
    TOWER_KAFKA_CLUSTER_ID: clusterId,
    TOWER_KAFKA_SCRAM_USERS: kafkaScramArguments(credentials).join(' '),
  };
}

/** ClickHouse's users (users.d file of the container). */
export const clickhouseUsersFile = '/etc/clickhouse-server/users.d/tower-users.xml';

/** `redis-server` arguments for the ACL users (each config line as `--user …`). */
export function redisAclArguments(credentials: InfraCredentials): string[] {
  return redisAclLines(credentials).flatMap((line) => {
    const [directive, ...args] = line.split(' ');
    return [`--${directive}`, ...args];
  });
}
