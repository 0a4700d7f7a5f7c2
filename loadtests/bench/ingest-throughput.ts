/**
 * Sustained events/s accepted by ONE ingest process (acks=all, idempotent producer) at
 * a batch size of 100, against Kafka's own ProducerPerformance tool with the same
 * record size on the same broker, in the same run.
 *
 *   npx tsx loadtests/bench/ingest-throughput.ts [--events 300000] [--batch 100] [--concurrency 16] [--reference-records 300000] [--keep-infra]
 *
 * The reference sends `--reference-records` (or `--events` if more) whatever `--events` is: a
 * short run of ProducerPerformance measures the JVM's start more than Kafka (17k rec/s
 * at 60,000 records against ~91k at 300,000 here), and the guard's short form needs a
 * reference that does not move with its own size. It runs once before the ingest process
 * starts and once after it stops, and its rate is the two runs' mean (all records over all
 * their seconds): a single run of 2–3 s samples the machine, and the faster of two picked
 * the luckiest sample, which the measured run never got.
 *
 * Starts its own Kafka/ClickHouse/Redis (bench profile, ports 29092/28123/26379) and an
 * ingest process on 28081; the load generator runs in this process on the same 2
 * cores, as a real device fleet would not: the figure is a floor.
 * Events come from the traffic simulator (realistic mix of truck, container and lane
 * events across every site). Every request must answer 200, and the Kafka end offsets
 * must grow by exactly the number of events sent; otherwise the benchmark fails.
 * It prints where the Kafka producer ran (KAFKA_PRODUCER_THREAD, passed on from this
 * shell's environment; read back from what ingest's /metrics serves) and how many of its
 * threads were replaced during the run.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { EventCodec, eventTypeSchemas, familyTopics, type TowerEvent } from '@tower/shared';
import { readDemoCredentials } from '../../infra/provision/credentials.ts';
import { parsePrometheus } from '../sre/server-metrics.ts';
import { benchKafka, invocation, machineDescription, percentile, pooledRate, postJson, print, reportRatio, runProducerPerformance, simulatedEvents, startBenchInfra, startBenchService, type BenchInfra } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    batch: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    'reference-records': { type: 'string', default: '300000' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const totalEvents = Number(values.events);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const referenceRecords = Number(values['reference-records']);
for (const [name, value] of Object.entries({ events: totalEvents, batch: batchSize, concurrency, 'reference-records': referenceRecords })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const ingestPort = 28081;

/** Request bodies of `batchSize` events of one site each (a device only speaks for its site). */
function requestBodies(events: TowerEvent[], keyOf: (site: string) => string): { key: string; body: string; events: number }[] {
  const bySite = new Map<string, TowerEvent[]>();
  for (const event of events) {
    const list = bySite.get(event.site) ?? [];
    list.push(event);
    bySite.set(event.site, list);
  }
  const bodies: { key: string; body: string; events: number }[] = [];
  for (const [site, list] of bySite) {
    for (let i = 0; i < list.length; i += batchSize) {
      const chunk = list.slice(i, i + batchSize);
      bodies.push({ key: keyOf(site), body: JSON.stringify(chunk), events: chunk.length });
    }
  }
  return bodies;
}

async function endOffsetTotal(infra: BenchInfra): Promise<number> {
  const admin = benchKafka(infra, 'bench-offsets').admin();
  await admin.connect();
  let total = 0;
  for (const topic of Object.values(familyTopics)) for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high);
  await admin.disconnect();
  return total;
}

/**
 * Where ingest's Kafka producer ran, from its /metrics: the thread's restart counter is
 * served only when the producer runs in its worker thread.
 */
async function producerPlacement(): Promise<string> {
  const value = process.env['KAFKA_PRODUCER_THREAD'];
  const setting = value === undefined ? 'KAFKA_PRODUCER_THREAD unset: default true' : `KAFKA_PRODUCER_THREAD=${value}`;
  // Served at 0 for each reason from the start when the thread is on: no sample, no thread.
  const samples = parsePrometheus(await (await fetch(`http://127.0.0.1:${ingestPort}/metrics`)).text()).filter((sample) => sample.name === 'tower_ingest_producer_thread_restarts_total');
  if (samples.length === 0) return `on the HTTP thread (${setting})`;
  const restarts = samples.reduce((sum, sample) => sum + sample.value, 0);
  return `in its worker thread (${setting}); threads replaced during the run: ${restarts}`;
}

/** Sends every body with `concurrency` requests in flight; fails on the first non-200. */
async function drive(bodies: { key: string; body: string; events: number }[]): Promise<{ seconds: number; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const { key, body } = bodies[next++]!;
        const sent = performance.now();
        const answer = await postJson(agent, ingestPort, '/v1/events', { authorization: `Bearer ${key}` }, body);
        latencies.push(performance.now() - sent);
        if (answer.status !== 200) throw new Error(`ingest answered ${answer.status}: ${answer.text.slice(0, 500)}`);
      }
    }),
  );
  agent.destroy();
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

print(`ingest throughput benchmark: ${totalEvents} events, batch ${batchSize}, ${concurrency} requests in flight`);
const infra = await startBenchInfra(values['keep-infra']);
let ingest: Awaited<ReturnType<typeof startBenchService>> | undefined;
try {
  const codec = new EventCodec();
  const warmupEvents = Math.min(20_000, Math.ceil(totalEvents / 10));
  const events = simulatedEvents(totalEvents + warmupEvents);
  const recordSize = Math.round(events.reduce((sum, e) => sum + codec.encode(eventTypeSchemas.get(e.type)!.family.name, e).length, 0) / events.length);
  const keys = new Map(readDemoCredentials(infra.credentialsDir).devices.map((d) => [d.site, d.apiKey]));
  const keyOf = (site: string) => keys.get(site) ?? '';
  const warmup = requestBodies(events.slice(0, warmupEvents), keyOf);
  const measured = requestBodies(events.slice(warmupEvents), keyOf);
  print(`events: ${events.length} simulated; mean Avro record ${recordSize} bytes; JSON request ~${Math.round(measured[0]!.body.length / 1024)} KiB`);

  const producerPerformance = () => runProducerPerformance(infra, { topic: 'bench.producer-performance', partitions: 6, records: Math.max(referenceRecords, totalEvents), recordSize });
  const referenceBefore = await producerPerformance();
  ingest = await startBenchService('ingest', infra, ingestPort, {
    DEVICES_FILE: `${infra.credentialsDir}/devices.json`,
    DEVICE_RATE_EVENTS_PER_SECOND: '10000000',
    DEVICE_BURST_EVENTS: '10000000',
  });
  await drive(warmup);
  const before = await endOffsetTotal(infra);
  const run = await drive(measured);
  const landed = (await endOffsetTotal(infra)) - before;
  if (landed !== totalEvents) throw new Error(`Kafka holds ${landed} new messages, expected ${totalEvents}`);
  const placement = await producerPlacement();
  await ingest.stop();
  ingest = undefined;

  const ingestRate = totalEvents / run.seconds;
  const referenceRuns = [referenceBefore, await producerPerformance()];
  const referenceRate = pooledRate(referenceRuns.map((r) => r.recordsPerSecond));
  const ratio = ingestRate / referenceRate;

  print();
  print(`machine: ${machineDescription()}`);
  print(`command: ${invocation()}`);
  print(`ingest API (1 process, batch ${batchSize}, acks=all): ${Math.round(ingestRate)} events/s, ${totalEvents} events in ${run.seconds.toFixed(1)} s; request latency p50 ${percentile(run.latencies, 50).toFixed(1)} ms, p99 ${percentile(run.latencies, 99).toFixed(1)} ms; Kafka end offsets +${landed}`);
  print(`ingest's Kafka producer: ${placement}`);
  print(`ProducerPerformance (same broker, ${Math.max(referenceRecords, totalEvents)} records of ${recordSize} bytes, acks=all, idempotent; before ingest started and after it stopped): ${Math.round(referenceRate)} records/s (${referenceRuns.map((r) => `${Math.round(r.recordsPerSecond)} records/s, avg latency ${r.avgLatencyMs} ms, p99 ${r.p99LatencyMs} ms`).join('; ')})`);
  print(`  reference command: ${referenceBefore.command}`);
  reportRatio({ key: 'ingest-throughput/ingest-vs-producer-performance', value: ratio, better: 'higher', meaning: 'ingest events/s ÷ ProducerPerformance records/s' });
} finally {
  await ingest?.stop();
  await infra.stop();
}
