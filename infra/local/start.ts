/**
 * `npm start`: the whole control tower on this machine. Starts (or reuses) the dev
 * profile's Kafka, ClickHouse, Redis and Prometheus, applies migrations and the topic
 * catalog, starts every service under services/ (and tells Prometheus where they are),
 * prints what is up and where, and on Ctrl-C
 * (or SIGTERM) stops services first and then the servers.
 *
 * `npm stop` stops everything a crashed or killed `npm start` left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createKafka, createLogger, eventFamilies, kafkaLoginOf, loadConfig, type KafkaLogin } from '@tower/shared';
import { prometheusFiles, writeServiceTargets } from '../prometheus/scrape.ts';
import { readDemoCredentials } from '../provision/credentials.ts';
import { describeProvision, provision, provisionEnv } from '../provision/provision.ts';
import { downInfra, upInfra } from './infra.ts';
import { adminEnv, credentialEnv, ensureInfraCredentials, infraCredentialsFile, serviceIdentities } from './infra-credentials.ts';
import { endpointsOf, repoRoot, resolveProfile } from './profiles.ts';
import { discoverServices, serviceSpec } from './services.ts';
import { inspectServer, startServer, stopServer } from './supervisor.ts';

const startedAt = Date.now();
const profile = resolveProfile('dev');
const lockFile = path.join(profile.root, 'run', 'start.lock');
const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;

function otherInstance(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    process.kill(pid, 0);
    return pid === process.pid ? undefined : pid;
  } catch {
    return undefined;
  }
}

async function stopAll(): Promise<void> {
  const services = discoverServices().map((s) => serviceSpec(s, profile, {}));
  await Promise.all(
    services.map(async (spec) => {
      const outcome = await stopServer(spec);
      if (outcome !== 'not-running') print(`${spec.label.padEnd(14)} ${outcome}`);
    }),
  );
  await downInfra('dev', print);
  fs.rmSync(lockFile, { force: true });
}

async function start(): Promise<void> {
  const running = otherInstance();
  if (running) {
    print(`The control tower is already running (npm start, pid ${running}). Stop it with Ctrl-C there, or run: npm stop`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  fs.writeFileSync(lockFile, String(process.pid));

  print('Starting the Móng Cái smart-gate control tower (dev profile)…');
  const infraCredentials = ensureInfraCredentials(profile.root);
  await upInfra(profile, print);

  const endpoints = endpointsOf(profile);
  const admin = adminEnv(infraCredentials);
  const env: Record<string, string> = {
    ...endpoints,
    CLICKHOUSE_DATABASE: 'tower',
    CREDENTIALS_DIR: path.join(repoRoot, '.local'),
    DEVICES_FILE: path.join(repoRoot, '.local', 'devices.json'),
    ACCESS_FILE: path.join(repoRoot, '.local', 'access.json'),
    CREDENTIALS_FILE: path.join(repoRoot, '.local', 'credentials.json'),
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
  };
  const logger = createLogger({ service: 'start', level: 'warn' });
  const report = await provision(loadConfig(provisionEnv, { ...env, ...admin }), logger);
  for (const line of describeProvision(report)) print(line);

  const services = discoverServices();
  const labelWidth = Math.max(14, ...services.map((s) => s.title.length + 1));
  // Each service logs in as its own users (infra-credentials.ts), never as an administrator.
  const specs = services.map((s) => serviceSpec(s, profile, { ...env, ...credentialEnv(infraCredentials, serviceIdentities[s.name] ?? {}) }));
  // A service left over from a killed run is restarted, so it runs today's code.
  for (const spec of specs) if (inspectServer(spec).state === 'running') await stopServer(spec);
  await Promise.all(
    specs.map(async (spec) => {
      await startServer(spec);
      print(`${spec.label.padEnd(labelWidth)} ready on http://127.0.0.1:${spec.ports[0]?.port}`);
    }),
  );
  // Prometheus's file-based discovery: from now on it scrapes each service where it runs.
  writeServiceTargets(profile, services.map((s) => ({ service: s.name, port: s.port })), services);

  print('');
  print(`Ready in ${seconds()}.`);
  const row = (label: string, value: string) => print(`  ${label.padEnd(labelWidth - 1)} ${value}`);
  row('Kafka', endpoints.KAFKA_BROKERS);
  row('ClickHouse', `${endpoints.CLICKHOUSE_URL}  (database tower)`);
  row('Redis', endpoints.REDIS_URL);
  row('Prometheus', `http://127.0.0.1:${profile.monitoring.prometheusPort}  (targets at /targets; data in ${prometheusFiles(profile).data})`);
  row('Infra passwords', `${infraCredentialsFile(profile.root)}  (Kafka SCRAM, ClickHouse and Redis users; mode 0600)`);
  for (const service of services) row(service.title, `http://127.0.0.1:${service.port}${service.links.map((l) => `  ${l}`).join('')}`);
  const credentials = path.join(repoRoot, '.local', 'credentials.json');
  if (fs.existsSync(credentials)) {
    row('Credentials', credentials);
    const access = readDemoCredentials(path.dirname(credentials)).access ?? [];
    const display = access.find((a) => a.role === 'display');
    const operator = access.find((a) => a.role === 'operator');
    if (display) row('Wall display', `http://127.0.0.1:8080/?token=${display.token}&rotate=30`);
    if (operator) row('Operator wall', `http://127.0.0.1:8080/?token=${operator.token}  (acknowledges alerts)`);
    if (display) row('Live feed', `ws://127.0.0.1:8080/v1/live?token=${display.token}  (docs/live-protocol.md)`);
    const firm = access.find((a) => a.role === 'firm');
    if (firm) row('Firm API key', `${firm.token}  (${firm.name}: Authorization: Bearer … on http://127.0.0.1:8082, docs/slots.md)`);
  }
  row('Logs', `${path.join(profile.root, 'logs')}  (npm run infra:logs)`);
  print('Press Ctrl-C to stop everything.');
  watchFlow(endpoints.KAFKA_BROKERS.split(','), kafkaLoginOf(admin), logger);
}

/** Every 30 s, how many events each event topic holds and how many arrived since. */
function watchFlow(brokers: string[], login: KafkaLogin | undefined, logger: ReturnType<typeof createLogger>): void {
  const admin = createKafka({ brokers, clientId: 'tower-start-flow', logger, retries: 1, login }).admin();
  const previous = new Map<string, number>();
  const report = async () => {
    const parts: string[] = [];
    for (const { topic } of eventFamilies) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((sum, p) => sum + Number(p.high), 0);
      parts.push(`${topic} ${total.toLocaleString('en')} (+${(total - (previous.get(topic) ?? total)).toLocaleString('en')})`);
      previous.set(topic, total);
    }
    print(`[${new Date().toLocaleTimeString('en-GB', { timeZone: 'Asia/Ho_Chi_Minh' })}] Kafka: ${parts.join(', ')}`);
  };
  void admin
    .connect()
    .then(report)
    .catch(() => undefined);
  setInterval(() => void report().catch((error: Error) => print(`Kafka flow: ${error.message}`)), 30_000).unref();
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    print(`\n${signal}: stopping services, then Kafka, ClickHouse, Redis and Prometheus…`);
    void stopAll().then(() => process.exit(0));
  });
}

if (process.argv[2] === 'stop') {
  await stopAll();
  print('stopped');
} else {
  try {
    await start();
    // Stay up until a signal arrives; services run detached and are watched by their pid files.
    setInterval(() => undefined, 1 << 30);
  } catch (error) {
    process.stderr.write(`\nnpm start failed after ${seconds()}: ${(error as Error).message}\n`);
    await stopAll();
    process.exit(1);
  }
}
