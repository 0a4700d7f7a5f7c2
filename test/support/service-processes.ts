/**
 * The services as real processes on the test servers (as `npm start` runs them, each
 * logged in as its own users), on free ports, with the demo registries of a directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig, type Logger } from '@tower/shared';
import type { TestInfra } from '@tower/shared/testing';
import { eventually } from '@tower/shared/testing/eventually';
import { credentialEnv, serviceIdentities } from '../../infra/local/infra-credentials.ts';
import { discoverServices } from '../../infra/local/services.ts';
import { provision, provisionEnv } from '../../infra/provision/provision.ts';
import type { AggregatorTopics } from '../../services/aggregator/src/test-support.ts';

const root = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  /** Its log (JSON lines), at `warn` unless `env` sets LOG_LEVEL. */
  stdout: () => string;
}

export function startService(name: string, env: Record<string, string>, port: number): Running {
  let stderr = '';
  let stdout = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services', name, 'src/main.ts')], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return { child, port, stderr: () => stderr, stdout: () => stdout };
}

/** Resolves once the service answers its /readyz with 2xx; fails naming it if it exits first. */
export async function waitReady(name: string, service: Running): Promise<void> {
  await eventually(
    async () => {
      if (service.child.exitCode !== null) throw new Error(`${name} exited: ${service.stderr()}`);
      const response = await fetch(`http://127.0.0.1:${service.port}/readyz`);
      return response.ok ? true : undefined;
    },
    { timeoutMs: 120_000, what: `${name} to be ready` },
  );
}

/** Its exit code, once its stderr is read to the end too ('close', not 'exit'). */
export const exited = (running: Running) =>
  new Promise<number | null>((resolve) => (running.child.exitCode !== null && running.child.stderr?.closed ? resolve(running.child.exitCode) : running.child.once('close', (code) => resolve(code))));

/**
 * SIGTERM, then SIGKILL if it has not exited within `graceMs`: a stuck service must not
 * hang the test or drill that stops it. Resolves with its exit code (null once killed).
 */
export async function stopService(running: Running, graceMs = 30_000): Promise<number | null> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return running.child.exitCode;
  const exit = exited(running);
  running.child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const first = await Promise.race([exit, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  running.child.kill('SIGKILL');
  return exit;
}

/** The servers' addresses and the demo registries; no login (each service adds its own). */
export function baseEnv(infra: TestInfra, directory: string): Record<string, string> {
  return {
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    KAFKA_REPLICATION_FACTOR: infra.KAFKA_REPLICATION_FACTOR,
    KAFKA_MIN_INSYNC_REPLICAS: infra.KAFKA_MIN_INSYNC_REPLICAS,
    CLICKHOUSE_URL: infra.CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: 'tower',
    REDIS_URL: infra.REDIS_URL,
    DEVICES_FILE: path.join(directory, 'devices.json'),
    ACCESS_FILE: path.join(directory, 'access.json'),
  };
}

/** The aggregator's topics as the services' settings name them (TOPIC_*). */
export const topicEnv = (topics: AggregatorTopics): Record<string, string> => ({
  TOPIC_TRUCKS: topics.events.truck,
  TOPIC_CONTAINERS: topics.events.container,
  TOPIC_LANES: topics.events.lane,
  TOPIC_DEADLETTER: topics.deadLetter,
  TOPIC_THROUGHPUT: topics.throughput,
  TOPIC_JOURNEYS: topics.journeys,
});

/** The administrators' logins, for provisioning. */
export const adminLogins = (infra: TestInfra) => ({
  KAFKA_SASL_MECHANISM: infra.KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME: infra.KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD: infra.KAFKA_SASL_PASSWORD,
  CLICKHOUSE_USER: infra.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: infra.CLICKHOUSE_PASSWORD,
});

/**
 * Provisions the test servers (migrations, topics, demo credentials into `directory`),
 * starts the named services as their own users and waits until each is ready. `stop`
 * ends them (SIGTERM) and waits for their exits.
 */
export async function startServices(infra: TestInfra, directory: string, logger: Logger, names: readonly string[], extraEnv: Record<string, string> = {}) {
  await provision(loadConfig(provisionEnv, { ...baseEnv(infra, directory), ...adminLogins(infra), CREDENTIALS_DIR: directory }), logger);
  const running: Record<string, Running> = {};
  const stop = async () => {
    await Promise.all(Object.values(running).map((service) => stopService(service)));
  };
  try {
    for (const name of names) running[name] = startService(name, { ...baseEnv(infra, directory), ...credentialEnv(infra.credentials, serviceIdentities[name] ?? {}), ...extraEnv }, await freePort());
    for (const [name, service] of Object.entries(running)) await waitReady(name, service);
  } catch (error) {
    await stop();
    throw error;
  }
  return { running, url: (name: string, route = '') => `http://127.0.0.1:${running[name]?.port}${route}`, stop };
}

/**
 * Every service under services/, as `npm start` runs them. The simulator, ready only once
 * ingest is, starts after the others and sends the calm profile through this stack's
 * ingest API (no scripted incidents, no bookings: the servers' database and slot store
 * are shared with the other test files running meanwhile); `stop` ends it with the others.
 */
export async function startEveryService(infra: TestInfra, directory: string, logger: Logger) {
  const names = discoverServices().map((s) => s.name);
  const stack = await startServices(infra, directory, logger, names.filter((name) => name !== 'simulator'));
  if (!names.includes('simulator')) return stack;
  try {
    const simulatorEnv = { CREDENTIALS_FILE: path.join(directory, 'credentials.json'), INGEST_URL: stack.url('ingest'), SLOTS_URL: stack.url('slots'), SIM_PROFILE: 'real', SIM_SLOT_SHARE_PERCENT: '0' };
    const simulator = startService('simulator', simulatorEnv, await freePort());
    stack.running['simulator'] = simulator;
    await waitReady('simulator', simulator);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
