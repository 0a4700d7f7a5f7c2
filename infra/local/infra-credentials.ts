import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The passwords of the infrastructure's users, one set per profile, generated on first
 * start into `.local/<profile>/credentials/infra.json` (mode 0600, directory 0700,
 * never committed: `.local/` is git-ignored) and reused afterwards. The servers'
 * configurations (rendered by servers.ts) hold only hashes where the server allows it
 * (ClickHouse SHA-256, Redis SHA-256, Kafka SCRAM in its metadata log); Kafka's own
 * server.properties holds the admin's password for broker-to-broker links (mode 0600).
 */
export const kafkaPrincipals = ['tower-admin', 'tower-ingest', 'tower-aggregator', 'tower-live', 'tower-slots'] as const;
export type KafkaPrincipal = (typeof kafkaPrincipals)[number];
export const clickhouseUsers = ['tower_admin', 'tower_writer', 'tower_reader', 'tower_monitor'] as const;
export type ClickHouseUser = (typeof clickhouseUsers)[number];
export const redisUsers = ['tower-admin', 'tower-slots', 'tower-live', 'tower-ingest', 'tower-monitor'] as const;
export type RedisUser = (typeof redisUsers)[number];

export interface InfraCredentials {
  kafka: Record<KafkaPrincipal, string>;
  /** The Kafka controllers' own login (SASL PLAIN on the controller listener: SCRAM cannot be used there). */
  kafkaController: string;
  clickhouse: Record<ClickHouseUser, string>;
  redis: Record<RedisUser, string>;
}

export const newInfraPassword = (): string => randomBytes(24).toString('hex');

export function infraCredentialsFile(profileRoot: string): string {
  return path.join(profileRoot, 'credentials', 'infra.json');
}

function fill<K extends string>(names: readonly K[], have: Partial<Record<K, string>> | undefined): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, have?.[name] ?? newInfraPassword()])) as Record<K, string>;
}

/** `existing` completed with a new password for every user it lacks (all of them when absent). */
export function newInfraCredentials(existing: Partial<InfraCredentials> = {}): InfraCredentials {
  return {
    kafka: fill(kafkaPrincipals, existing.kafka),
    kafkaController: existing.kafkaController ?? newInfraPassword(),
    clickhouse: fill(clickhouseUsers, existing.clickhouse),
    redis: fill(redisUsers, existing.redis),
  };
}

/** The profile's credentials: read, completed with any user that is missing, written back 0600. */
export function ensureInfraCredentials(profileRoot: string): InfraCredentials {
  const file = infraCredentialsFile(profileRoot);
  const credentials = newInfraCredentials(fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<InfraCredentials>) : {});
  const content = `${JSON.stringify(credentials, null, 2)}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content) fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return credentials;
}

/**
 * Which users each service runs as. The live service reads ClickHouse as the read-only
 * user and writes only the alert history as the writer.
 */
export interface ServiceIdentity {
  kafka?: KafkaPrincipal;
  clickhouse?: ClickHouseUser;
  clickhouseAlertLog?: ClickHouseUser;
  redis?: RedisUser;
}

export const serviceIdentities: Readonly<Record<string, ServiceIdentity>> = {
  ingest: { kafka: 'tower-ingest', redis: 'tower-ingest' },
  aggregator: { kafka: 'tower-aggregator', clickhouse: 'tower_writer' },
  live: { kafka: 'tower-live', clickhouse: 'tower_reader', clickhouseAlertLog: 'tower_writer', redis: 'tower-live' },
  slots: { kafka: 'tower-slots', clickhouse: 'tower_writer', redis: 'tower-slots' },
  simulator: {},
  'clickhouse-exporter': { clickhouse: 'tower_monitor' },
};

export const kafkaSaslMechanism = 'scram-sha-512' as const;

/** The env (names every service reads) that logs a client in as the given users. */
export function credentialEnv(credentials: InfraCredentials, identity: ServiceIdentity): Record<string, string> {
  return {
    ...(identity.kafka ? { KAFKA_SASL_MECHANISM: kafkaSaslMechanism, KAFKA_SASL_USERNAME: identity.kafka, KAFKA_SASL_PASSWORD: credentials.kafka[identity.kafka] } : {}),
    ...(identity.clickhouse ? { CLICKHOUSE_USER: identity.clickhouse, CLICKHOUSE_PASSWORD: credentials.clickhouse[identity.clickhouse] } : {}),
    ...(identity.clickhouseAlertLog
      ? { CLICKHOUSE_ALERT_LOG_USER: identity.clickhouseAlertLog, CLICKHOUSE_ALERT_LOG_PASSWORD: credentials.clickhouse[identity.clickhouseAlertLog] }
      : {}),
    ...(identity.redis ? { REDIS_USERNAME: identity.redis, REDIS_PASSWORD: credentials.redis[identity.redis] } : {}),
  };
}

/** The administrators' logins under the env names: provisioning (migrations, topics, ACLs), the tests' fixtures, the benchmarks. */
export function adminEnv(credentials: InfraCredentials) {
  return {
    KAFKA_SASL_MECHANISM: kafkaSaslMechanism,
    KAFKA_SASL_USERNAME: 'tower-admin',
    KAFKA_SASL_PASSWORD: credentials.kafka['tower-admin'],
    CLICKHOUSE_USER: 'tower_admin',
    CLICKHOUSE_PASSWORD: credentials.clickhouse.tower_admin,
    REDIS_USERNAME: 'tower-admin',
    REDIS_PASSWORD: credentials.redis['tower-admin'],
  } as const;
}
