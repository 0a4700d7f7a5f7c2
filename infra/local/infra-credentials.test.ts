import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialEnv, ensureInfraCredentials, infraCredentialsFile, newInfraCredentials, serviceIdentities } from './infra-credentials.ts';
import { standaloneClickHouseSpec, standaloneKafkaSpec, standaloneRedisSpec } from './servers.ts';

let root: string | undefined;
afterEach(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  root = undefined;
});
const scratch = () => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-infra-creds-')));

describe('infrastructure credentials', () => {
  it('are generated on first use into a file only the owner can read, then reused; a missing user is added', () => {
    const profile = scratch();
    const first = ensureInfraCredentials(profile);
    const file = infraCredentialsFile(profile);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(new Set(Object.values(first.kafka)).size).toBe(Object.keys(first.kafka).length);
    expect(first.clickhouse.tower_reader).toMatch(/^[0-9a-f]{48}$/);
    expect(ensureInfraCredentials(profile)).toEqual(first);

    const { tower_reader: _dropped, ...rest } = first.clickhouse;
    fs.writeFileSync(file, JSON.stringify({ ...first, clickhouse: rest }));
    const completed = ensureInfraCredentials(profile);
    expect(completed.kafka).toEqual(first.kafka);
    expect(completed.clickhouse.tower_admin).toBe(first.clickhouse.tower_admin);
    expect(completed.clickhouse.tower_reader).not.toBe(first.clickhouse.tower_reader);
  });

  it('give each service its own users, never an administrator', () => {
    const credentials = newInfraCredentials();
    for (const [service, identity] of Object.entries(serviceIdentities)) {
      const env = credentialEnv(credentials, identity);
      expect(Object.values(env).filter((v) => ['tower-admin', 'tower_admin'].includes(v)), service).toEqual([]);
    }
    expect(credentialEnv(credentials, serviceIdentities['live'] ?? {})).toMatchObject({ CLICKHOUSE_USER: 'tower_reader', CLICKHOUSE_PASSWORD: credentials.clickhouse.tower_reader, KAFKA_SASL_USERNAME: 'tower-live' });
  });
});

describe("the servers' configurations", () => {
  it('hold SHA-256 hashes of the ClickHouse and Redis passwords, never the passwords, and are readable by the owner only', async () => {
    const dir = scratch();
    const credentials = newInfraCredentials();
    await standaloneClickHouseSpec(dir, 1, credentials).prepare();
    await standaloneRedisSpec(dir, 1, credentials).prepare();
    const clickhouse = fs.readFileSync(path.join(dir, 'clickhouse', 'config.xml'), 'utf8');
    const redis = fs.readFileSync(path.join(dir, 'redis', 'redis.conf'), 'utf8');
    for (const secret of [...Object.values(credentials.clickhouse), ...Object.values(credentials.redis)]) {
      expect(clickhouse).not.toContain(secret);
      expect(redis).not.toContain(secret);
    }
    expect(clickhouse).toMatch(/<tower_reader replace="replace">\s*<password_sha256_hex>[0-9a-f]{64}<\/password_sha256_hex>/);
    expect(redis).toMatch(/^user tower-slots on #[0-9a-f]{64} ~slots:\* /m);
    for (const file of ['clickhouse/config.xml', 'redis/redis.conf']) expect(fs.statSync(path.join(dir, file)).mode & 0o777, file).toBe(0o600);
  });

  it('Kafka data formatted before the users (or with other passwords) stops the start, naming the reset', async () => {
    const dir = scratch();
    const credentials = newInfraCredentials();
    fs.mkdirSync(path.join(dir, 'kafka', 'log'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'kafka', 'log', 'meta.properties'), 'version=1\n');
    const spec = standaloneKafkaSpec(dir, 1, credentials);
    await expect(spec.prepare()).rejects.toThrow(/formatted before Kafka had users \(SASL\/SCRAM\), so no user can log in\. Reset Kafka's data .*rm -rf /);
    fs.writeFileSync(path.join(dir, 'kafka', 'log', 'tower-scram-users'), 'another fingerprint\n');
    await expect(spec.prepare()).rejects.toThrow(/formatted with other Kafka passwords than those in .*infra\.json/);
  });
});
