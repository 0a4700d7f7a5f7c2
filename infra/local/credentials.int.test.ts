import kafkajs from 'kafkajs';
import { describe, expect } from 'vitest';
import {
  applyServiceAcls,
  applyTopicCatalog,
  checkClickHouseLogin,
  connectRedis,
  createClickHouse,
  createKafka,
  createProducer,
  createRedis,
  gateConditionsKey,
  pingClickHouse,
  topicCatalog,
  type ClickHouseClient,
  type KafkaLogin,
  type Logger,
} from '@tower/shared';
import { eventually, test, uniqueName, type TestInfra } from '@tower/shared/testing';
import { kpiRoundKeys } from '../../services/live/src/gateway/kpi-rounds.ts';

/** The servers run with their users on: every login is checked, and each user may do only its part. */

const clickhouseAs = (infra: TestInfra, logger: Logger, username: string, password: string, database = 'tower'): ClickHouseClient =>
  createClickHouse({ url: infra.CLICKHOUSE_URL, username, password, database, logger, requestTimeoutMs: 10_000 });

const redisAs = (infra: TestInfra, logger: Logger, username: string, password: string) => createRedis(infra.REDIS_URL, { connectionName: uniqueName('creds'), logger, username, password });

const kafkaAs = (infra: TestInfra, logger: Logger, login: KafkaLogin) => createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('creds'), logger, retries: 1, login });

describe('ClickHouse users', () => {
  test('a wrong password, an unknown user and the password-less default user are refused', async ({ infra, logger }) => {
    for (const [user, password] of [
      ['tower_reader', 'wrong'],
      ['nobody', infra.credentials.clickhouse.tower_reader],
      ['default', ''],
    ] as const) {
      const client = clickhouseAs(infra, logger, user, password, 'default');
      await expect(checkClickHouseLogin(client), user).rejects.toThrow(/password|user|Authentication/i);
      await client.close();
    }
    const admin = clickhouseAs(infra, logger, infra.CLICKHOUSE_USER, infra.CLICKHOUSE_PASSWORD, 'default');
    await expect(checkClickHouseLogin(admin)).resolves.toBeUndefined();
    await admin.close();
  });

  test('the reader selects but cannot INSERT, DROP or CREATE; the writer inserts but cannot DROP; neither sees other databases', async ({ infra, logger }) => {
    const admin = clickhouseAs(infra, logger, infra.CLICKHOUSE_USER, infra.CLICKHOUSE_PASSWORD);
    const table = uniqueName('perm');
    const bootstrap = clickhouseAs(infra, logger, infra.CLICKHOUSE_USER, infra.CLICKHOUSE_PASSWORD, 'default');
    await bootstrap.command({ query: 'CREATE DATABASE IF NOT EXISTS tower' });
    await bootstrap.close();
    await admin.command({ query: `CREATE TABLE tower.${table} (x UInt8) ENGINE = Memory` });
    const reader = clickhouseAs(infra, logger, 'tower_reader', infra.credentials.clickhouse.tower_reader);
    const writer = clickhouseAs(infra, logger, 'tower_writer', infra.credentials.clickhouse.tower_writer);
    try {
      await writer.command({ query: `INSERT INTO ${table} VALUES (1)` });
      const count = async (client: ClickHouseClient) => (await (await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n;
      expect(await count(reader)).toBe('1');
      await expect(reader.command({ query: `INSERT INTO ${table} VALUES (2)` })).rejects.toThrow(/readonly/i);
      await expect(reader.command({ query: `DROP TABLE ${table}` })).rejects.toThrow(/readonly/i);
      await expect(reader.command({ query: `CREATE TABLE ${table}_2 (x UInt8) ENGINE = Memory` })).rejects.toThrow(/readonly/i);
      await expect(writer.command({ query: `DROP TABLE ${table}` })).rejects.toThrow(/DDL queries are prohibited/);
      await expect(writer.command({ query: `CREATE DATABASE ${table}` })).rejects.toThrow(/DDL queries are prohibited/);
      await expect(reader.query({ query: 'SELECT count() FROM default.no_such_table' })).rejects.toThrow(/Access denied to database default/);
      expect(await count(admin)).toBe('1');
    } finally {
      await admin.command({ query: `DROP TABLE IF EXISTS tower.${table}` });
      await Promise.all([admin.close(), reader.close(), writer.close()]);
    }
  });

  test('readiness notices a refused login (`/ping` alone would not)', async ({ infra, logger }) => {
    const wrong = clickhouseAs(infra, logger, 'tower_reader', 'wrong');
    await expect(pingClickHouse(wrong)).rejects.toThrow(/password|Authentication/i);
    await wrong.close();
  });
});

describe('Redis users', () => {
  test('a wrong password is refused with Redis’s reason; without a login nothing is allowed', async ({ infra, logger }) => {
    const wrong = redisAs(infra, logger, 'tower-slots', 'wrong');
    await expect(connectRedis(wrong)).rejects.toThrow(/WRONGPASS/);
    wrong.disconnect();
    const defaultUser = redisAs(infra, logger, 'default', 'guess');
    await expect(connectRedis(defaultUser)).rejects.toThrow(/WRONGPASS/);
    defaultUser.disconnect();
    const anonymous = createRedis(infra.REDIS_URL, { connectionName: uniqueName('anonymous'), logger });
    await connectRedis(anonymous).catch(() => undefined);
    await expect(anonymous.get('slots:x')).rejects.toThrow(/NOAUTH|closed|writeable/i);
    anonymous.disconnect();
  });

  test('each service reaches only its own keys and no administrative command', async ({ infra, logger }) => {
    const slots = redisAs(infra, logger, 'tower-slots', infra.credentials.redis['tower-slots']);
    const live = redisAs(infra, logger, 'tower-live', infra.credentials.redis['tower-live']);
    await Promise.all([connectRedis(slots), connectRedis(live)]);
    const key = uniqueName('perm');
    try {
      await slots.set(`slots:${key}`, '1');
      expect(await slots.eval("return redis.call('INCR', KEYS[1])", 1, `slots:${key}`)).toBe(2);
      await expect(slots.get(`alerts:${key}`)).rejects.toThrow(/NOPERM/);
      await expect(live.get(`slots:${key}`)).rejects.toThrow(/NOPERM/);
      await live.set(`alerts:${key}`, '1');
      // The gate conditions' one key: live writes it and cannot read it, slots reads it and cannot write it; nothing else under conditions:.
      expect(await live.set(gateConditionsKey, '{}', 'PX', 1, 'NX')).toBeOneOf(['OK', null]);
      await expect(live.get(gateConditionsKey)).rejects.toThrow(/NOPERM/);
      await expect(live.set(`conditions:${key}`, '1')).rejects.toThrow(/NOPERM/);
      // The shared KPI round and the followers' wish for rounds: live reads and writes those two keys, nothing else under kpis:.
      for (const roundKey of Object.values(kpiRoundKeys)) {
        expect(await live.set(roundKey, '{}', 'PX', 1, 'NX')).toBeOneOf(['OK', null]);
        await live.get(roundKey);
      }
      await expect(live.set(`kpis:${key}`, '1')).rejects.toThrow(/NOPERM/);
      await slots.get(gateConditionsKey);
      await expect(slots.set(gateConditionsKey, '{}')).rejects.toThrow(/NOPERM/);
      await expect(slots.del(gateConditionsKey)).rejects.toThrow(/NOPERM/);
      await expect(slots.flushall()).rejects.toThrow(/NOPERM/);
      await expect(slots.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
      await expect(slots.keys('*')).rejects.toThrow(/NOPERM/);
    } finally {
      await slots.del(`slots:${key}`);
      await live.del(`alerts:${key}`);
      slots.disconnect();
      live.disconnect();
    }
  });
});

describe('Kafka principals (SASL/SCRAM, ACLs)', () => {
  test('a wrong password is refused at connect', async ({ infra, logger }) => {
    const producer = createProducer(kafkaAs(infra, logger, { mechanism: 'scram-sha-512', username: 'tower-ingest', password: 'wrong' }));
    await expect(producer.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed/i);
    const anonymous = createProducer(createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('creds'), logger, retries: 1, connectionTimeoutMs: 2000, requestTimeoutMs: 3000 }));
    await expect(anonymous.connect()).rejects.toThrow();
  });

  test('ingest may produce to the event topics only, and may not read them', async ({ infra, logger, admin }) => {
    await applyTopicCatalog(admin, topicCatalog, { replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR), minInsyncReplicas: Number(infra.KAFKA_MIN_INSYNC_REPLICAS) });
    await applyServiceAcls(admin);
    const ingest = kafkaAs(infra, logger, { mechanism: 'scram-sha-512', username: 'tower-ingest', password: infra.credentials.kafka['tower-ingest'] });
    const producer = createProducer(ingest);
    await producer.connect();
    try {
      await producer.send([{ topic: 'tower.lanes.v1', messages: [{ key: 'credentials-test', value: 'not an event (dead-lettered if anyone reads it)' }] }]);
      await expect(producer.send([{ topic: 'tower.throughput.v1', messages: [{ key: 'k', value: 'v' }] }])).rejects.toThrow(/authoriz/i);
      await expect(producer.send([{ topic: 'tower.alerts.v1', messages: [{ key: 'k', value: 'v' }] }])).rejects.toThrow(/authoriz/i);
    } finally {
      await producer.disconnect();
    }

    // KafkaJS reports a refused group as "Failed to find group coordinator" and logs the broker's reason at debug level.
    const logged: string[] = [];
    const reader = new kafkajs.Kafka({
      brokers: infra.KAFKA_BROKERS.split(','),
      clientId: uniqueName('creds'),
      sasl: { mechanism: 'scram-sha-512', username: 'tower-ingest', password: infra.credentials.kafka['tower-ingest'] },
      logLevel: kafkajs.logLevel.DEBUG,
      logCreator: () => (entry) => void logged.push(JSON.stringify(entry.log)),
    });
    const consumer = reader.consumer({ groupId: uniqueName('ingest-reads'), retry: { retries: 0 } });
    let crashed: string | undefined;
    consumer.on(consumer.events.CRASH, (event) => (crashed = String(event.payload.error)));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ['tower.lanes.v1'], fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined }).catch((error: Error) => (crashed = String(error)));
      await eventually(async () => crashed, { timeoutMs: 30_000, what: 'the consumer to be refused' });
      expect(logged.some((line) => line.includes('GROUP_AUTHORIZATION_FAILED'))).toBe(true);
    } finally {
      await consumer.disconnect();
    }
  });

  test('applying the ACLs twice leaves one copy of each', async ({ admin }) => {
    const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
    const ours = async () => {
      const { resources } = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, permissionType: AclPermissionTypes.ANY, operation: AclOperationTypes.ANY });
      return resources.flatMap((r) => r.acls.filter((a) => a.principal.startsWith('User:tower-')).map((a) => `${r.resourceType}/${r.resourcePatternType}/${r.resourceName}/${a.principal}/${a.operation}`));
    };
    const applied = await applyServiceAcls(admin);
    await applyServiceAcls(admin);
    // The authorizer learns new ACLs from the metadata log a moment after CreateAcls answers.
    const entries = await eventually(async () => {
      const found = await ours();
      return found.length >= applied ? found : undefined;
    }, { timeoutMs: 30_000, what: 'the ACLs to be visible' });
    expect(entries).toHaveLength(applied);
    expect(new Set(entries).size).toBe(applied);
  });
});
