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

/** Single-node KRaft broker+controller, advertised at `advertised` (host:port). */
export function kafkaContainerEnv(listenPort: number, advertised: string): Record<string, string> {
  return {
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${listenPort},CONTROLLER://0.0.0.0:9093`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${advertised}`,
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
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
