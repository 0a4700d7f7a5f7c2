import path from 'node:path';
import {
  env,
  loadCatalog,
  applyMigrations,
  applyServiceAcls,
  applyTopicCatalog,
  clickhouseEnv,
  createKafka,
  kafkaEnv,
  kafkaLoginOf,
  loadMigrations,
  logEnv,
  topicCatalog,
  type ConfigOf,
  type Logger,
  type TopicAction,
} from '@tower/shared';

import { ensureDemoCredentials } from './credentials.ts';

export const provisionEnv = {
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  CREDENTIALS_DIR: env.string({ default: '.local', description: 'where demo device keys and gateway tokens (credentials.json) and the hashed registries (devices.json, access.json) are written' }),
};
export type ProvisionConfig = ConfigOf<typeof provisionEnv>;

export const migrationsDirectory = path.resolve(import.meta.dirname, '../clickhouse/migrations');

export interface ProvisionReport {
  credentialsCreated: number;
  migrationsApplied: string[];
  migrationsAlreadyApplied: number;
  topics: TopicAction[];
  /** Kafka ACL entries of the services applied (0 when Kafka runs without logins). */
  acls: number;
}

/**
 * Brings ClickHouse and Kafka to the shape the services expect: every migration
 * applied, every catalog topic present and configured, and (when Kafka has logins)
 * every service's ACLs (shared/src/kafka/acls.ts). Idempotent; run by
 * `npm start`, by docker-compose's `provision` job and by the tests.
 */
export async function provision(config: ProvisionConfig, logger: Logger): Promise<ProvisionReport> {
  const credentials = ensureDemoCredentials(loadCatalog(), path.resolve(config.CREDENTIALS_DIR));
  const migrations = await applyMigrations(
    {
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      logger,
    },
    loadMigrations(migrationsDirectory),
  );
  const login = kafkaLoginOf(config);
  const admin = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-provision`, logger, login }).admin();
  await admin.connect();
  try {
    const topics = await applyTopicCatalog(admin, topicCatalog, {
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
    });
    const acls = login ? await applyServiceAcls(admin) : 0;
    return { credentialsCreated: credentials.created, migrationsApplied: migrations.applied, migrationsAlreadyApplied: migrations.alreadyApplied.length, topics, acls };
  } finally {
    await admin.disconnect();
  }
}

export function describeProvision(report: ProvisionReport): string[] {
  const topicLines = report.topics.map((t) =>
    t.action === 'reconfigured' ? `topic ${t.topic}: reconfigured (${t.changes.join(', ')})`
    : t.action === 'partitions-added' ? `topic ${t.topic}: partitions ${t.from} -> ${t.to}`
    : t.action === 'warning' ? `topic ${t.topic}: WARNING ${t.message}`
    : `topic ${t.topic}: ${t.action}`,
  );
  return [
    ...(report.credentialsCreated > 0 ? [`demo credentials: ${report.credentialsCreated} created (device keys and gateway tokens in credentials.json)`] : []),
    `migrations: ${report.migrationsApplied.length} applied${report.migrationsApplied.length ? ` (${report.migrationsApplied.join(', ')})` : ''}, ${report.migrationsAlreadyApplied} already there`,
    ...topicLines,
    report.acls > 0 ? `Kafka ACLs: ${report.acls} entries for the services' principals applied` : 'Kafka ACLs: none (Kafka runs without logins)',
  ];
}
