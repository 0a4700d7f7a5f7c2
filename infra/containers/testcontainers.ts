import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import type { TestInfra } from '@tower/shared/testing';
import { adminEnv, newInfraCredentials } from '../local/infra-credentials.ts';
import { newClusterId } from '../local/servers.ts';
import { clickhouseAccessXml } from '../local/server-users.ts';
import { clickhouseUsersFile, images, kafkaContainerCommand, kafkaContainerEnv, redisAclArguments, redisContainerCommand } from './images.ts';

/** True when a Docker engine answers (not only the client, as on machines without one). */
export async function dockerEngineAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The test servers as containers, for hosts with a Docker engine. Kafka needs to
 * advertise an address the host can reach, so its port is fixed (19092, as the
 * local test profile); ClickHouse and Redis take random ports. Like the local servers
 * they have users (fresh passwords each run), Kafka SASL/SCRAM and ACLs.
 */
export async function startTestContainers(): Promise<{ infra: TestInfra; stop(): Promise<void> }> {
  const kafkaPort = 19092;
  const credentials = newInfraCredentials();
  const started: StartedTestContainer[] = [];
  try {
    const kafka = await new GenericContainer(images.kafka)
      .withEnvironment(
        kafkaContainerEnv({
          listeners: [{ name: 'SASL_PLAINTEXT', port: kafkaPort, advertised: `127.0.0.1:${kafkaPort}` }],
          // A throwaway broker per run: its own id, its log in the container (gone with it).
          clusterId: newClusterId(),
          logDir: '/var/lib/kafka/data',
          credentials,
        }),
      )
      .withCommand(kafkaContainerCommand)
      .withExposedPorts({ container: kafkaPort, host: kafkaPort })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    started.push(kafka);
    const clickhouse = await new GenericContainer(images.clickhouse)
      .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
      .withCopyContentToContainer([{ content: `<clickhouse>\n${clickhouseAccessXml(credentials)}\n</clickhouse>\n`, target: clickhouseUsersFile }])
      .withExposedPorts(8123)
      .withWaitStrategy(Wait.forHttp('/ping', 8123))
      .start();
    started.push(clickhouse);
    const redis = await new GenericContainer(images.redis)
      .withCommand([...redisContainerCommand, ...redisAclArguments(credentials)])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start();
    started.push(redis);
    return {
      infra: {
        KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        KAFKA_REPLICATION_FACTOR: '1',
        KAFKA_MIN_INSYNC_REPLICAS: '1',
        CLICKHOUSE_URL: `http://${clickhouse.getHost()}:${clickhouse.getMappedPort(8123)}`,
        REDIS_URL: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
        ...adminEnv(credentials),
        credentials,
      },
      stop: async () => {
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((c) => c.stop().catch(() => undefined)));
    throw error;
  }
}
