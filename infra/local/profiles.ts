import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (infra/local/ is two levels down). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A profile is one independent set of local servers: its own ports and its own data
 * under `.local/<name>/`. `dev` is what `npm start` runs; `test` is what `npm test`
 * runs, on other ports, so tests never touch a running demo; `bench` is what the
 * benchmarks under loadtests/ start, so their load lands on neither.
 */
export const profileNames = ['dev', 'test', 'bench'] as const;
export type ProfileName = (typeof profileNames)[number];
export type KafkaMode = 'single' | 'cluster';

export interface KafkaNode {
  id: number;
  brokerPort: number;
  controllerPort: number;
  dataDir: string;
}

export interface InfraProfile {
  name: ProfileName;
  kafkaMode: KafkaMode;
  /** `.local/<profile>`: configs, data, pids and logs of this profile. */
  root: string;
  kafka: {
    nodes: KafkaNode[];
    /** Default replication factor and min.insync.replicas for the topic catalog. */
    replicationFactor: number;
    minInsyncReplicas: number;
    heap: string;
    libDir: string;
  };
  clickhouse: { httpPort: number; tcpPort: number; dataDir: string };
  redis: { port: number; dataDir: string };
  /**
   * Prometheus and the exporters that give it the infrastructure's figures. Kafka's JMX
   * exporter is a java agent inside each broker, on `kafkaJmxBasePort + node index`.
   */
  monitoring: {
    prometheusPort: number;
    prometheusDataDir: string;
    nodeExporterPort: number;
    redisExporterPort: number;
    kafkaJmxBasePort: number;
  };
}

const basePorts: Record<ProfileName, { kafka: number; chHttp: number; chTcp: number; redis: number; prometheus: number; nodeExporter: number; redisExporter: number; kafkaJmx: number }> = {
  dev: { kafka: 9092, chHttp: 8123, chTcp: 9000, redis: 6379, prometheus: 9090, nodeExporter: 9100, redisExporter: 9121, kafkaJmx: 9404 },
  test: { kafka: 19092, chHttp: 18123, chTcp: 19000, redis: 16379, prometheus: 19090, nodeExporter: 19100, redisExporter: 19121, kafkaJmx: 19404 },
  bench: { kafka: 29092, chHttp: 28123, chTcp: 29000, redis: 26379, prometheus: 29090, nodeExporter: 29100, redisExporter: 29121, kafkaJmx: 29404 },
};

export function resolveProfile(name: ProfileName, kafkaMode: KafkaMode = 'single'): InfraProfile {
  const root = path.join(repoRoot, '.local', name);
  const ports = basePorts[name];
  const nodeCount = kafkaMode === 'cluster' ? 3 : 1;
  const kafkaRoot = path.join(root, `kafka-${kafkaMode}`);
  const nodes = Array.from({ length: nodeCount }, (_, i): KafkaNode => ({
    id: i + 1,
    brokerPort: ports.kafka + 2 * i,
    controllerPort: ports.kafka + 2 * i + 1,
    dataDir: path.join(kafkaRoot, `node-${i + 1}`),
  }));
  return {
    name,
    kafkaMode,
    root,
    kafka: {
      nodes,
      replicationFactor: nodeCount,
      minInsyncReplicas: Math.min(2, nodeCount),
      heap: kafkaMode === 'cluster' ? '512m' : '768m',
      libDir: path.join(repoRoot, '.local', 'kafka', 'lib'),
    },
    clickhouse: { httpPort: ports.chHttp, tcpPort: ports.chTcp, dataDir: path.join(root, 'clickhouse') },
    redis: { port: ports.redis, dataDir: path.join(root, 'redis') },
    monitoring: {
      prometheusPort: ports.prometheus,
      prometheusDataDir: path.join(root, 'prometheus'),
      nodeExporterPort: ports.nodeExporter,
      redisExporterPort: ports.redisExporter,
      kafkaJmxBasePort: ports.kafkaJmx,
    },
  };
}

/** Connection settings for clients of a profile, under the env names every service reads. */
export interface InfraEndpoints {
  KAFKA_BROKERS: string;
  KAFKA_REPLICATION_FACTOR: string;
  KAFKA_MIN_INSYNC_REPLICAS: string;
  CLICKHOUSE_URL: string;
  REDIS_URL: string;
}

export function endpointsOf(profile: InfraProfile): InfraEndpoints {
  return {
    KAFKA_BROKERS: profile.kafka.nodes.map((n) => `127.0.0.1:${n.brokerPort}`).join(','),
    KAFKA_REPLICATION_FACTOR: String(profile.kafka.replicationFactor),
    KAFKA_MIN_INSYNC_REPLICAS: String(profile.kafka.minInsyncReplicas),
    CLICKHOUSE_URL: `http://127.0.0.1:${profile.clickhouse.httpPort}`,
    REDIS_URL: `redis://127.0.0.1:${profile.redis.port}`,
  };
}
