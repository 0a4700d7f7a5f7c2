/**
 * End-to-end latency of the live figures: events POSTed to the ingest API at a steady
 * rate → Kafka → aggregator → ClickHouse → tick on tower.throughput.v1 → live gateway →
 * a WebSocket client. Each delta carries `newestIngestedAt` (when the newest event it
 * includes reached the ingest API); latency is the client's clock minus that, same
 * machine: the freshness of what the client shows. A delta that brings no newer event
 * for its window than one already shown (the confirmed tick of figures shown
 * provisionally) is not new data: it counts in the confirmed latency (ingest → stored
 * figures on the client), not in freshness. Steps at 1,000 and 10,000 events/s offered. The reference, in the same run,
 * is Kafka's own `EndToEndLatency` tool (produce → consume, acks=all) on the same broker.
 *
 *   npx tsx loadtests/bench/end-to-end-latency.ts [--rates 1000,10000] [--seconds 20] [--keep-infra]
 *
 * Starts its own servers (bench profile), recreates the event and tick topics, and
 * runs ingest (28081), aggregator (28084) and live gateway (28080) processes on a fresh
 * ClickHouse database. Events come from the simulator's mix, re-stamped with a new id
 * and the send time.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { applyMigrations, applyTopicCatalog, createClickHouse, createLogger, createTopicsReady, loadMigrations, topicCatalog, type TowerEvent } from '@tower/shared';
import { readDemoCredentials } from '../../infra/provision/credentials.ts';
import { repoRoot } from '../../infra/local/profiles.ts';
import { migrationsDirectory } from '../../services/aggregator/src/test-support.ts';
import { parsePrometheus } from '../sre/server-metrics.ts';
import { benchClickHouse, benchKafka, bestOf, invocation, kafkaToolConfig, machineDescription, percentile, print, reportRatio, simulatedEvents, startBenchInfra, startBenchService, type BenchInfra } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '1000,10000' },
    seconds: { type: 'string', default: '20' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const rates = values.rates.split(',').map(Number);
const seconds = Number(values.seconds);
if (rates.some((r) => !Number.isInteger(r) || r < 10) || !(seconds > 0)) throw new Error('--rates must be integers ≥ 10, --seconds positive');
const ports = { ingest: 28081, aggregator: 28084, live: 28080 };
const logger = createLogger({ service: 'bench', level: 'error' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = promisify(execFile);

function post(agent: http.Agent, key: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: ports.ingest, path: '/v1/events', method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Sum and count of a histogram over all its labels, from a service's /metrics. */
async function histogram(port: number, name: string): Promise<{ sum: number; count: number }> {
  const samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const total = (suffix: string) => samples.filter((sample) => sample.name === `${name}_${suffix}`).reduce((sum, sample) => sum + sample.value, 0);
  return { sum: total('sum'), count: total('count') };
}

/**
 * The segments of the path the services measure, over the measured part of a step: ingest's
 * wait for Kafka's ack, and the aggregator's inserts (its fetch loop takes the next batch
 * only once the inserts of the one in hand are done: events that arrive meanwhile wait).
 */
async function pathSegments(): Promise<() => Promise<string>> {
  const names = { ack: [ports.ingest, 'tower_ingest_kafka_ack_seconds'], insert: [ports.aggregator, 'tower_aggregator_insert_seconds'], rows: [ports.aggregator, 'tower_aggregator_batch_rows'] } as const;
  const read = async () => Object.fromEntries(await Promise.all(Object.entries(names).map(async ([key, [port, name]]) => [key, await histogram(port, name)] as const)));
  const before = await read();
  return async () => {
    const after = await read();
    const delta = (key: keyof typeof names) => ({ sum: after[key]!.sum - before[key]!.sum, count: after[key]!.count - before[key]!.count });
    const mean = (key: keyof typeof names, scale: number) => Math.round((delta(key).sum / Math.max(1, delta(key).count)) * scale);
    return `ingest → Kafka ack mean ${mean('ack', 1000)} ms; ${delta('insert').count} aggregator inserts of ${mean('rows', 1)} rows, mean ${mean('insert', 1000)} ms`;
  };
}

/** Kafka's own produce → consume latency on the same broker (ms: p50, p99). */
async function kafkaEndToEnd(infra: BenchInfra, topic: string): Promise<{ p50: number; p99: number; command: string }> {
  const args = ['-Xmx256m', `-Dlog4j2.configurationFile=${path.join(repoRoot, 'infra/kafka/log4j2.yaml')}`, '-cp', path.join(repoRoot, '.local/kafka/lib/*'), 'org.apache.kafka.tools.EndToEndLatency', infra.endpoints.KAFKA_BROKERS, topic, '5000', 'all', '500', path.relative(repoRoot, kafkaToolConfig(infra))];
  const { stdout } = await run('java', args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  const match = /Percentiles: 50th = ([\d.]+), 99th = ([\d.]+)/.exec(stdout);
  if (!match) throw new Error(`unexpected EndToEndLatency output: ${stdout.slice(-300)}`);
  return { p50: Number(match[1]), p99: Number(match[2]), command: `java -cp '.local/kafka/lib/*' ${args.slice(4).join(' ')}` };
}

print(`end-to-end latency benchmark: ${rates.join(' / ')} events/s offered for ${seconds} s each`);
const infra = await startBenchInfra(values['keep-infra']);
const services: Awaited<ReturnType<typeof startBenchService>>[] = [];
try {
  const runId = `bench_${Date.now().toString(36)}`;
  const kafka = benchKafka(infra, 'bench-e2e', logger);
  const admin = kafka.admin();
  await admin.connect();
  // Fresh event and tick topics (the ingest benchmark leaves events in them), a fresh database.
  const recreated = topicCatalog.filter((t) => ['tower.trucks.v1', 'tower.containers.v1', 'tower.lanes.v1', 'tower.throughput.v1'].includes(t.name));
  const existing = await admin.listTopics();
  await admin.deleteTopics({ topics: recreated.map((t) => t.name).filter((name) => existing.includes(name)) });
  await sleep(2000);
  await applyTopicCatalog(admin, recreated, { replicationFactor: infra.profile.kafka.replicationFactor, minInsyncReplicas: infra.profile.kafka.minInsyncReplicas });
  const database = `${runId}_e2e`;
  const bootstrap = createClickHouse(benchClickHouse(infra, 'default', logger));
  await bootstrap.command({ query: `CREATE DATABASE ${database}` });
  await applyMigrations(benchClickHouse(infra, database, logger), loadMigrations(migrationsDirectory));

  const credentials = readDemoCredentials(infra.credentialsDir);
  const keys = new Map(credentials.devices.map((d) => [d.site, d.apiKey]));
  const display = credentials.access.find((a) => a.role === 'display')!;
  const common = { CLICKHOUSE_DATABASE: database, CATALOG_FILE: path.join(repoRoot, 'seeds/site-catalog.json') };
  services.push(await startBenchService('ingest', infra, ports.ingest, { ...common, DEVICES_FILE: path.join(infra.credentialsDir, 'devices.json'), DEVICE_RATE_EVENTS_PER_SECOND: '1000000', DEVICE_BURST_EVENTS: '1000000' }));
  services.push(await startBenchService('aggregator', infra, ports.aggregator, { ...common, CONSUMER_GROUP: `${runId}-aggregator` }));
  services.push(await startBenchService('live', infra, ports.live, { ...common, ACCESS_FILE: path.join(infra.credentialsDir, 'access.json') }));

  // Per delta: ingest → client, split at the tick's publishedAt into the aggregator's
  // part (fetch, insert, read back, produce) and delivery (Kafka, gateway, WebSocket).
  let latencies: number[] = [];
  let aggregatorParts: number[] = [];
  let deliveryParts: number[] = [];
  let confirmedLatencies: number[] = [];
  let provisionalDeltas = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  /** Per window, the newest ingest time a delta showed. */
  const shownUpTo = new Map<string, number>();
  const ws = new WebSocket(`ws://127.0.0.1:${ports.live}/v1/live?token=${display.token}`, ['tower.live.v1'], { perMessageDeflate: false });
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string; data?: { site: string; lane: string; direction: string; laneKind: string; windowStart: number; newestIngestedAt?: number; publishedAt?: number; provisional?: boolean } };
    const ingestedAt = message.data?.newestIngestedAt;
    const publishedAt = message.data?.publishedAt;
    if (message.type !== 'delta' || !message.data || ingestedAt === undefined || publishedAt === undefined || ingestedAt < measureFrom) return;
    const now = Date.now();
    const { site, lane, direction, laneKind, windowStart, provisional } = message.data;
    if (provisional) provisionalDeltas += 1;
    else confirmedLatencies.push(now - ingestedAt);
    const key = `${site}|${lane}|${direction}|${laneKind}|${windowStart}`;
    if ((shownUpTo.get(key) ?? 0) >= ingestedAt) return;
    shownUpTo.set(key, ingestedAt);
    latencies.push(now - ingestedAt);
    aggregatorParts.push(publishedAt - ingestedAt);
    deliveryParts.push(now - publishedAt);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'subscribe', id: 'zone', channel: 'throughput' }));

  const pool = simulatedEvents(20_000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const results: { rate: number; accepted: number; p50: number; p99: number; deltas: number; split: string }[] = [];
  const p50p99 = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${percentile(sorted, 50)} / ${percentile(sorted, 99)} ms`;
  };
  for (const rate of rates) {
    const perTick = rate / 10; // every 100 ms
    let accepted = 0;
    let failedRounds = 0;
    let next = 0;
    const started = Date.now();
    measureFrom = started + 5000; // 5 s of warm-up at the same rate
    latencies = [];
    aggregatorParts = [];
    deliveryParts = [];
    confirmedLatencies = [];
    provisionalDeltas = 0;
    let segments: (() => Promise<string>) | undefined;
    for (let round = 0; Date.now() - started < (seconds + 5) * 1000; round += 1) {
      const now = Date.now();
      if (!segments && now >= measureFrom) segments = await pathSegments();
      const bySite = new Map<string, TowerEvent[]>();
      for (let i = 0; i < perTick; i += 1) {
        const event = { ...pool[next++ % pool.length]!, eventId: randomUUID(), observedAt: now } as TowerEvent;
        bySite.set(event.site, [...(bySite.get(event.site) ?? []), event]);
      }
      const requests: Promise<number>[] = [];
      for (const [site, events] of bySite) for (let i = 0; i < events.length; i += 100) requests.push(post(agent, keys.get(site)!, JSON.stringify(events.slice(i, i + 100))));
      // A request the overloaded ingest API dropped (socket hang up) or refused is counted, not thrown: an unhandled
      // rejection ended the run before its reference and left its services running.
      void Promise.allSettled(requests).then((outcomes) => {
        if (outcomes.every((o) => o.status === 'fulfilled' && o.value === 200)) accepted += perTick;
        else failedRounds += 1;
      });
      await sleep(Math.max(0, started + (round + 1) * 100 - Date.now()));
    }
    await sleep(3000);
    const measured = segments ? await segments() : 'no segments measured';
    const sorted = [...latencies].sort((a, b) => a - b);
    const split = `ingest → tick published p50 / p99 ${p50p99(aggregatorParts)}, published → client ${p50p99(deliveryParts)}; ${provisionalDeltas} provisional deltas; confirmed figures on the client p50 / p99 ${p50p99(confirmedLatencies)}; ${measured}`;
    if (failedRounds > 0) print(`  ${failedRounds} rounds of ${perTick} events had a request refused or dropped by ingest (not counted as accepted)`);
    results.push({ rate, accepted, p50: percentile(sorted, 50), p99: percentile(sorted, 99), deltas: sorted.length, split });
    print(`  ${rate} events/s offered: ${accepted} accepted; ${sorted.length} deltas of new data; freshness p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms (${split})`);
  }
  agent.destroy();
  ws.close();
  for (const service of services.splice(0).reverse()) await service.stop();
  const referenceTopic = `${runId}.e2e-reference`;
  await createTopicsReady(admin, [{ topic: referenceTopic, numPartitions: 1, replicationFactor: infra.profile.kafka.replicationFactor }]);
  const reference = await bestOf(2, () => kafkaEndToEnd(infra, referenceTopic), (a, b) => a.p99 < b.p99);
  await admin.deleteTopics({ topics: [referenceTopic] });
  await admin.disconnect();
  await bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await bootstrap.close();

  print();
  print(`machine: ${machineDescription()}`);
  print(`command: ${invocation()}`);
  for (const r of results) print(`ingest → WebSocket (freshness) at ${r.rate} events/s offered: p50 ${r.p50} ms, p99 ${r.p99} ms (${r.deltas} deltas of new data, ${r.accepted} events accepted; ${r.split})`);
  print(`Kafka EndToEndLatency (best of two, same broker, 500-byte records, acks=all): p50 ${reference.p50} ms, p99 ${reference.p99} ms`);
  print(`  reference command: ${reference.command}`);
  for (const r of results) reportRatio({ key: `end-to-end-latency/p99-at-${r.rate}-vs-kafka-end-to-end`, value: r.p99 / Math.max(1, reference.p99), better: 'lower', meaning: `ingest → WebSocket p99 at ${r.rate} events/s ÷ Kafka EndToEndLatency p99` });
} finally {
  for (const service of services.reverse()) await service.stop();
  await infra.stop();
}
