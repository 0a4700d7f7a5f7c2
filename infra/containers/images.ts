/**
 * Container images and their environment, shared by docker-compose.yml (generated
 * from this) and the test harness's testcontainers path, so both run the same
 * servers with the same settings as the local processes.
 */
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
