import { test as base, inject } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { createClickHouse, type ClickHouseClient, type ClickHouseSettings } from '../clickhouse/client.ts';
import { identifier } from '../clickhouse/sql.ts';
import { createKafka } from '../kafka/client.ts';
import { createTopicsReady } from '../kafka/topic-catalog.ts';
import { kafkaLoginOf, type KafkaLogin } from '../config.ts';
import { createLogger, type Logger } from '../logging.ts';
import { createRedis, type Redis } from '../redis.ts';
import { uniqueName } from './eventually.ts';

/**
 * What the integration-test global setup provides: the real servers' addresses, the
 * administrators' logins under the env names services read, and every user's password.
 */
export interface TestInfra {
  KAFKA_BROKERS: string;
  KAFKA_REPLICATION_FACTOR: string;
  KAFKA_MIN_INSYNC_REPLICAS: string;
  CLICKHOUSE_URL: string;
  REDIS_URL: string;
  KAFKA_SASL_MECHANISM: 'scram-sha-512';
  KAFKA_SASL_USERNAME: string;
  KAFKA_SASL_PASSWORD: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  REDIS_USERNAME: string;
  REDIS_PASSWORD: string;
  credentials: TestCredentials;
}

/** Passwords by user (infra/local/infra-credentials.ts). */
export interface TestCredentials {
  kafka: Record<'tower-admin' | 'tower-ingest' | 'tower-aggregator' | 'tower-live' | 'tower-slots', string>;
  kafkaController: string;
  clickhouse: Record<'tower_admin' | 'tower_writer' | 'tower_reader' | 'tower_monitor', string>;
  redis: Record<'tower-admin' | 'tower-slots' | 'tower-live' | 'tower-ingest' | 'tower-monitor', string>;
}

/** The Kafka login of the tests' administrator. */
export const testKafkaLogin = (infra: TestInfra): KafkaLogin | undefined => kafkaLoginOf(infra);

/** Redis as the tests' administrator (every key). */
export const testRedis = (infra: TestInfra, connectionName: string, logger: Logger): Redis =>
  createRedis(infra.REDIS_URL, { connectionName, logger, username: infra.REDIS_USERNAME, password: infra.REDIS_PASSWORD });

declare module 'vitest' {
  export interface ProvidedContext {
    infra: TestInfra;
  }
}

export { sleep, uniqueName } from './eventually.ts';

export interface IsolatedClickHouse {
  client: ClickHouseClient;
  settings: ClickHouseSettings;
}

export interface IsolatedRedis {
  /** Every key this client touches is prefixed with `prefix`. */
  redis: Redis;
  prefix: string;
}

export interface TowerFixtures {
  infra: TestInfra;
  logger: Logger;
  kafka: Kafka;
  admin: Admin;
  /** Creates a uniquely named topic, deleted after the test. */
  createTopic: (options?: { partitions?: number }) => Promise<string>;
  /** A fresh database, dropped after the test. */
  clickhouse: IsolatedClickHouse;
  redis: IsolatedRedis;
}

/**
 * vitest fixtures that hand a test real servers, isolated per test: random topic and
 * group names, a database of its own, a Redis key prefix of its own.
 */
export const test = base.extend<TowerFixtures>({
  infra: async ({}, use) => {
    await use(inject('infra'));
  },
  logger: async ({}, use) => {
    await use(createLogger({ service: 'test', level: process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent' }));
  },
  kafka: async ({ infra, logger }, use) => {
    await use(createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('test'), logger, login: testKafkaLogin(infra) }));
  },
  admin: async ({ kafka }, use) => {
    const admin = kafka.admin();
    await admin.connect();
    await use(admin);
    await admin.disconnect();
  },
  createTopic: async ({ admin, infra }, use) => {
    const created: string[] = [];
    await use(async ({ partitions = 3 } = {}) => {
      const topic = uniqueName('t');
      // Not KafkaJS's waitForLeaders: it gives up when a broker has not heard of the topic yet.
      await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR) }]);
      created.push(topic);
      return topic;
    });
    if (created.length > 0) await admin.deleteTopics({ topics: created });
  },
  clickhouse: async ({ infra, logger }, use) => {
    const database = identifier(uniqueName('test'));
    const settings: ClickHouseSettings = { url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database, logger };
    const bootstrap = createClickHouse({ ...settings, database: 'default' });
    await bootstrap.command({ query: `CREATE DATABASE ${database}` });
    const client = createClickHouse(settings);
    await use({ client, settings });
    await client.close();
    await bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await bootstrap.close();
  },
  redis: async ({ infra, logger }, use) => {
    const prefix = `${uniqueName('test')}:`;
    const redis = testRedis(infra, prefix, logger);
    redis.options.keyPrefix = prefix;
    await redis.connect();
    await use({ redis, prefix });
    // keyPrefix does not apply to SCAN patterns, so clean up with a plain connection.
    const cleaner = testRedis(infra, 'test-cleanup', logger);
    await cleaner.connect();
    for await (const keys of cleaner.scanStream({ match: `${prefix}*`, count: 500 })) {
      if ((keys as string[]).length > 0) await cleaner.del(...(keys as string[]));
    }
    cleaner.disconnect();
    redis.disconnect();
  },
});

/** Re-exported: it lives apart from the fixtures so code run outside vitest (the drills) can wait too. */
export { eventually } from './eventually.ts';
