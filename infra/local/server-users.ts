import { createHash } from 'node:crypto';
import { gateConditionsKey } from '@tower/shared';
import { kafkaPrincipals, type InfraCredentials } from './infra-credentials.ts';

/**
 * The users each server knows and what they may do, rendered into the servers'
 * configurations: the local processes (servers.ts) and the containers (images.ts).
 * ClickHouse and Redis get SHA-256 hashes only; Kafka's SCRAM users go into its
 * metadata log when the storage is formatted.
 */
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * How passwords are written: as SHA-256 (the local servers, the test containers), or
 * as they are, for docker-compose, whose values are `${…}` references to the
 * deployment's uncommitted .env that compose fills in when it starts the containers.
 */
export type PasswordForm = 'sha256' | 'plain';

/**
 * ClickHouse's users and profiles (XML elements valid in 18.16 and current releases):
 * tower_admin (migrations, DDL), tower_writer (INSERT and SELECT in the tower database,
 * no DDL: aggregator, slots history, alert history), tower_reader (readonly=2: SELECT
 * with per-query settings, no writes, no DDL, tower database only: history API,
 * gateway), tower_monitor (the ClickHouse exporter: readonly=2 like tower_reader; it
 * cannot be held to the system database alone, as system.parts lists only the tables
 * of databases the user may read, in 18.16 as in current releases). `default` stays
 * (the server wants it), read-only, with a password nobody is given; `replace` drops
 * the password-less `default` an image may define.
 */
export function clickhouseAccessXml(credentials: InfraCredentials, form: PasswordForm = 'sha256'): string {
  const user = (name: string, secret: string, profile: string, databases?: string[]) =>
    [
      `    <${name} replace="replace">`,
      form === 'sha256' ? `      <password_sha256_hex>${sha256(secret)}</password_sha256_hex>` : `      <password>${secret}</password>`,
      '      <networks><ip>::/0</ip></networks>',
      `      <profile>${profile}</profile>`,
      '      <quota>default</quota>',
      ...(databases ? [`      <allow_databases>${databases.map((d) => `<database>${d}</database>`).join('')}</allow_databases>`] : []),
      `    </${name}>`,
    ].join('\n');
  const profile = (name: string, extra: string[]) =>
    [`    <${name}>`, '      <max_memory_usage>4000000000</max_memory_usage>', '      <load_balancing>random</load_balancing>', ...extra.map((line) => `      ${line}`), `    </${name}>`].join('\n');
  return [
    '  <users>',
    user('default', `disabled:${credentials.clickhouse.tower_admin}`, 'reader', ['system']),
    user('tower_admin', credentials.clickhouse.tower_admin, 'default'),
    user('tower_writer', credentials.clickhouse.tower_writer, 'writer', ['tower']),
    user('tower_reader', credentials.clickhouse.tower_reader, 'reader', ['tower']),
    user('tower_monitor', credentials.clickhouse.tower_monitor, 'reader', ['tower']),
    '  </users>',
    '  <profiles>',
    profile('default', []),
    profile('writer', ['<allow_ddl>0</allow_ddl>']),
    profile('reader', ['<readonly>2</readonly>']),
    '  </profiles>',
  ].join('\n');
}

/**
 * Redis ACL users (redis.conf lines, or `--user …` arguments): `default` locked;
 * tower-admin everything (provisioning, tests); each service its own key prefix (and the
 * gate conditions' key: live writes it, slots reads it; live's two KPI round keys, the
 * leader's round and the followers' wish for rounds, kpis:round and kpis:wanted) and no
 * administrative or dangerous command (INFO stays: the client's ready check sends it);
 * tower-monitor (the Prometheus Redis exporter) no key, no channel, and only the
 * commands the exporter sends without key checks: PING, INFO, CONFIG GET (maxmemory,
 * maxclients), CLIENT SETNAME (it names its connection), LATENCY LATEST, SLOWLOG GET and
 * LEN (infra/local/exporters.int.test.ts fails on any command Redis refuses it).
 */
export function redisAclLines(credentials: InfraCredentials, form: PasswordForm = 'sha256'): string[] {
  const password = (secret: string) => (form === 'sha256' ? `#${sha256(secret)}` : `>${secret}`);
  const service = (name: 'tower-slots' | 'tower-live' | 'tower-ingest', keys: string) =>
    `user ${name} on ${password(credentials.redis[name])} ${keys} &* +@all -@admin -@dangerous +info`;
  return [
    // Not `off`: Redis 7.0 replays MULTI/EXEC from the append-only file as the default
    // user, and a default user without rights drops every transaction at a restart
    // (NOPERM on EXEC in the log, bookings lost). So it keeps every right behind a
    // password nobody is given: a connection without a login can do nothing.
    `user default on resetpass ${password(`disabled:${credentials.redis['tower-admin']}`)} ~* &* +@all`,
    `user tower-admin on ${password(credentials.redis['tower-admin'])} ~* &* +@all`,
    // The gate conditions: the live service writes the one key (never reads it), the slots service reads it (never writes it).
    service('tower-slots', `~slots:* %R~${gateConditionsKey}`),
    service('tower-live', `~alerts:* ~kpis:round ~kpis:wanted %W~${gateConditionsKey}`),
    service('tower-ingest', '~ingest:*'),
    `user tower-monitor on ${password(credentials.redis['tower-monitor'])} resetkeys resetchannels -@all +ping +info +config|get +client|setname +latency|latest +slowlog|get +slowlog|len`,
  ];
}

/**
 * Kafka's security settings. Clients log in with SASL/SCRAM-SHA-512 on the broker
 * listeners (`brokerListeners`, each SASL_PLAINTEXT), brokers too, as tower-admin.
 * SCRAM cannot be used between brokers and controllers (its users live in the metadata
 * the controllers serve), so the controller listener uses SASL PLAIN with its one login
 * here. The StandardAuthorizer allows only what the ACLs say (shared/src/kafka/acls.ts).
 */
export function kafkaSecurityProperties(credentials: InfraCredentials, brokerListeners: readonly string[] = ['SASL_PLAINTEXT']): string[] {
  const controller = credentials.kafkaController;
  return [
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    ...brokerListeners.map((listener) => `listener.name.${listener.toLowerCase()}.scram-sha-512.sasl.jaas.config=${kafkaAdminJaas(credentials)}`),
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="tower-controller" password="${controller}" user_tower-controller="${controller}";`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users=User:tower-admin;User:tower-controller',
    'allow.everyone.if.no.acl.found=false',
  ];
}

/** tower-admin's SCRAM login as a JAAS line (brokers log in to each other with it; tools too). */
export const kafkaAdminJaas = (credentials: InfraCredentials): string =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required username="tower-admin" password="${credentials.kafka['tower-admin']}";`;

/** `kafka-storage format` arguments that add every principal's SCRAM credential. */
export function kafkaScramArguments(credentials: InfraCredentials): string[] {
  return kafkaPrincipals.flatMap((name) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${credentials.kafka[name]}]`]);
}

/** Recorded next to Kafka's data when it is formatted: later starts check the users are still these. */
export const kafkaUsersFingerprint = (credentials: InfraCredentials): string => sha256(JSON.stringify(credentials.kafka));
