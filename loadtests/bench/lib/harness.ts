/**
 * What every benchmark needs: its own real servers (the `bench` profile, so a running
 * demo or test run is never disturbed), the project's services started as processes,
 * Kafka's own producer performance tool as the in-run reference, and a report that
 * prints the figures with the command that made them.
 */
import fs from 'node:fs';
import http from 'node:http';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createKafka, createLogger, createTopicsReady, kafkaLoginOf, loadCatalog, loadConfig, type ClickHouseSettings, type Logger, type TowerEvent } from '@tower/shared';
import type { Kafka } from 'kafkajs';
import { TrafficSimulation } from '../../../services/simulator/src/domain/traffic.ts';
import { downInfra, upInfra } from '../../../infra/local/infra.ts';
import { adminEnv, ensureInfraCredentials } from '../../../infra/local/infra-credentials.ts';
import { endpointsOf, repoRoot, resolveProfile, type InfraEndpoints, type InfraProfile } from '../../../infra/local/profiles.ts';
import { discoverServices, serviceSpec } from '../../../infra/local/services.ts';
import { startServer, stopServer, type ServerSpec } from '../../../infra/local/supervisor.ts';
import { provision, provisionEnv } from '../../../infra/provision/provision.ts';
import type { MeasuredRatio } from '../guard/compare.ts';

const run = promisify(execFile);
export const print = (line = '') => process.stdout.write(`${line}\n`);

/**
 * A ratio of this run's figure to its in-run reference, for the guard (`npm run bench`,
 * loadtests/bench/guard): printed, and appended as a JSON line to BENCH_RESULTS_FILE when
 * the guard runs the benchmark.
 */
export function reportRatio(ratio: MeasuredRatio): void {
  print(`ratio ${ratio.key} (${ratio.meaning}, ${ratio.better} is better): ${ratio.value.toFixed(3)}`);
  const file = process.env['BENCH_RESULTS_FILE'];
  if (file) fs.appendFileSync(file, `${JSON.stringify(ratio)}\n`);
}

/**
 * A reference figure measured `runs` times, the best kept: the end-to-end benchmark's
 * Kafka EndToEndLatency p99 (whole milliseconds, 3–9 ms). The throughput references no
 * longer use it (see `pooledRate`): the best of several short runs picks the machine's
 * luckiest moment, which the run it is compared with never got.
 */
export async function bestOf<T>(runs: number, measure: () => Promise<T>, better: (a: T, b: T) => boolean): Promise<T> {
  let best = await measure();
  for (let run = 2; run <= runs; run += 1) {
    const next = await measure();
    if (better(next, best)) best = next;
  }
  return best;
}

/**
 * The rate of several runs of the same amount of work taken together (all the work over
 * all their seconds, i.e. the harmonic mean of their rates): how the throughput
 * benchmarks pool reference runs made before and after what they are compared with. A
 * reference run of 2–5 s samples the machine (ClickHouse's insert read 119k–304k rows/s,
 * redis-benchmark 34k–86k SET/s within minutes on a quiet machine); runs around the
 * measured one, pooled, see the machine it saw.
 */
export function pooledRate(rates: readonly number[]): number {
  if (rates.length === 0 || rates.some((rate) => !(rate > 0))) throw new Error(`pooledRate needs positive rates, got [${rates.join(', ')}]`);
  return rates.length / rates.reduce((sum, rate) => sum + 1 / rate, 0);
}

export interface BenchInfra {
  profile: InfraProfile;
  /** The servers' addresses and the administrators' logins (the benchmarks and the services they start use their own topics and databases). */
  endpoints: InfraEndpoints & ReturnType<typeof adminEnv>;
  credentialsDir: string;
  /** Stops the servers unless the caller asked to keep them (--keep-infra). */
  stop(): Promise<void>;
}

export async function startBenchInfra(keep: boolean): Promise<BenchInfra> {
  const profile = resolveProfile('bench');
  const report = (line: string) => print(`[bench infra] ${line}`);
  const admin = adminEnv(ensureInfraCredentials(profile.root));
  const started = await upInfra(profile, report);
  const endpoints = { ...endpointsOf(profile), ...admin };
  const credentialsDir = path.join(profile.root, 'credentials');
  const config = loadConfig(provisionEnv, { ...process.env, ...endpoints, CREDENTIALS_DIR: credentialsDir, LOG_LEVEL: 'warn' });
  await provision(config, createLogger({ service: 'bench-provision', level: 'warn' }));
  return {
    profile,
    endpoints,
    credentialsDir,
    async stop() {
      if (keep) return;
      const startedHere = new Set([...started].filter(([, outcome]) => outcome !== 'already-running').map(([name]) => name));
      await downInfra('bench', report, startedHere);
    },
  };
}

/** Kafka as the benchmarks' administrator. */
export function benchKafka(infra: BenchInfra, clientId: string, logger: Logger = createLogger({ service: 'bench', level: 'warn' })): Kafka {
  return createKafka({ brokers: infra.endpoints.KAFKA_BROKERS.split(','), clientId, logger, login: kafkaLoginOf(infra.endpoints) });
}

/** ClickHouse settings of the benchmarks' administrator for `database`. */
export function benchClickHouse(infra: BenchInfra, database: string, logger: Logger): ClickHouseSettings {
  return { url: infra.endpoints.CLICKHOUSE_URL, username: infra.endpoints.CLICKHOUSE_USER, password: infra.endpoints.CLICKHOUSE_PASSWORD, database, logger };
}

/** Client settings for Kafka's own tools (the administrator's SCRAM login), in a file of mode 0600. */
export function kafkaToolConfig(infra: BenchInfra): string {
  const file = path.join(infra.profile.root, 'credentials', 'kafka-tools.properties');
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = infra.endpoints;
  fs.writeFileSync(
    file,
    ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=SCRAM-SHA-512', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`, ''].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

/**
 * Starts one of the project's services as its own process and waits for /readyz.
 * BENCH_CPU_PROFILE_DIR=dir writes a V8 CPU profile of it there when it stops.
 */
export async function startBenchService(name: string, infra: BenchInfra, port: number, env: Record<string, string>): Promise<{ spec: ServerSpec; stop(): Promise<void> }> {
  const service = discoverServices().find((s) => s.name === name);
  if (!service) throw new Error(`no service ${name} under services/`);
  const spec = serviceSpec({ ...service, port }, infra.profile, { ...infra.endpoints, LOG_LEVEL: 'warn', ...env });
  const profileDir = process.env['BENCH_CPU_PROFILE_DIR'];
  if (profileDir) spec.args = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...spec.args];
  await startServer(spec);
  return { spec, stop: async () => void (await stopServer(spec)) };
}

export interface ProducerPerfResult {
  recordsPerSecond: number;
  megabytesPerSecond: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
  command: string;
}

/**
 * Kafka's own `org.apache.kafka.tools.ProducerPerformance` against the same broker:
 * the ceiling a JVM client reaches with the same record size and acks=all.
 */
export async function runProducerPerformance(infra: BenchInfra, options: { topic: string; partitions: number; records: number; recordSize: number }): Promise<ProducerPerfResult> {
  const admin = benchKafka(infra, 'bench-admin').admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(options.topic)) {
    await createTopicsReady(admin, [{ topic: options.topic, numPartitions: options.partitions, replicationFactor: infra.profile.kafka.replicationFactor }]);
  }
  await admin.disconnect();
  const classpath = path.join(infra.profile.kafka.libDir, '*');
  const args = [
    '-Xmx512m',
    `-Dlog4j2.configurationFile=${path.join(repoRoot, 'infra/kafka/log4j2.yaml')}`,
    '-cp',
    classpath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    options.topic,
    '--num-records',
    String(options.records),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${infra.endpoints.KAFKA_BROKERS}`,
    'acks=all',
    'enable.idempotence=true',
    '--producer.config',
    path.relative(repoRoot, kafkaToolConfig(infra)),
  ];
  const { stdout } = await run('java', args, { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 });
  const summary = stdout.trim().split('\n').at(-1) ?? '';
  const match = /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.* ([\d.]+) ms 99th/.exec(summary);
  if (!match) throw new Error(`unexpected ProducerPerformance output: ${summary}`);
  return {
    recordsPerSecond: Number(match[1]),
    megabytesPerSecond: Number(match[2]),
    avgLatencyMs: Number(match[3]),
    p99LatencyMs: Number(match[4]),
    command: `java -cp '.local/kafka/lib/*' ${args.slice(4).join(' ')}`,
  };
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The command line that started this benchmark, to paste into docs/BENCHMARKS.md. */
export function invocation(): string {
  return `npx tsx ${path.relative(repoRoot, process.argv[1] ?? '')} ${process.argv.slice(2).join(' ')}`.trim();
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Realistic events (the simulator's mix of truck, container and lane events at every
 * site), run fast over the past days, in chunks of about ten simulated minutes, until
 * `count` events; so a million events never need to be held at once.
 */
export function* simulatedEventChunks(count: number, options: { seed?: number; rate?: number; days?: number } = {}): Generator<TowerEvent[]> {
  const days = options.days ?? 6;
  const end = Date.now() - 60_000;
  const start = end - days * 24 * 3600_000;
  const simulation = new TrafficSimulation(loadCatalog(), { seed: options.seed ?? 7, rate: options.rate ?? 400, start });
  let produced = 0;
  for (let at = start + 600_000; produced < count && at <= end; at += 600_000) {
    const chunk = simulation.advanceTo(at).slice(0, count - produced);
    produced += chunk.length;
    if (chunk.length > 0) yield chunk;
  }
  if (produced < count) throw new Error(`the simulation made only ${produced} events; ask for fewer or raise its rate`);
}

export function simulatedEvents(count: number, options: { seed?: number; rate?: number; days?: number } = {}): TowerEvent[] {
  return [...simulatedEventChunks(count, options)].flat();
}

/** One JSON POST over a keep-alive agent to a local service; the status and body text. */
export function postJson(agent: http.Agent, port: number, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
