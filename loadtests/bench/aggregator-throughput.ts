/**
 * Kafka into ClickHouse: how fast ONE aggregator process drains a backlog of events
 * (decode, dedup, derive journey and lane times, insert raw rows with the six
 * materialized views on), against ClickHouse's own `INSERT ... FORMAT JSONEachRow` of
 * the same rows into the same schema, in the same run.
 *
 *   npx tsx loadtests/bench/aggregator-throughput.ts [--events 1000000] [--days 1] [--partitions 6] [--insert-rows 50000] [--keep-infra]
 *
 * Starts its own Kafka/ClickHouse/Redis (bench profile, ports 29092/28123/26379). Each
 * run writes the backlog to fresh topics and drains it into a fresh database, so runs
 * never see each other's data. Phases:
 *   1. the simulator's events of the last `--days` (the backlog an outage of the
 *      aggregator leaves) are written to Kafka (not timed); a backlog spread over more
 *      days drains slower, since one insert never spans two days;
 *   2. an aggregator process starts on the backlog; timed from its start until every
 *      event is a raw row AND counted by the 1-minute aggregates (progress every 5 s);
 *   3. the reference: the same rows as the aggregator writes them, pre-serialised,
 *      POSTed to ClickHouse's HTTP interface `--insert-rows` rows per INSERT, one at a
 *      time, into another fresh database with the same views, each pass once the
 *      server's merges have settled; `--reference-passes` passes (4), half before the
 *      drain and half after it, and the reference rate is their mean (all rows over all
 *      their seconds). A pass lasts 2–5 s on two cores and one read 119k–304k rows/s on
 *      the same server within minutes: the mean of passes around the drain sees the
 *      machine the drain saw, where the fastest of two passes after it did not.
 * Fails unless both databases end with exactly `--events` rows and aggregates.
 */
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  EventCodec,
  JourneyTracker,
  applyMigrations,
  createClickHouse,
  createLogger,
  createProducer,
  createTopicsReady,
  eventTypeSchemas,
  loadCatalog,
  loadMigrations,
  type ClickHouseClient,
  type ConsumedEvent,
  type FamilyName,
  type LaneEvent,
  type TruckEvent,
} from '@tower/shared';
import { LaneOpenTracker } from '../../services/aggregator/src/domain/lanes.ts';
import { dimensionsOf, noDerived, rawRowOf, rawTables } from '../../services/aggregator/src/domain/rows.ts';
import { allRawEvents, migrationsDirectory } from '../../services/aggregator/src/test-support.ts';
import { benchClickHouse, benchKafka, invocation, machineDescription, pooledRate, print, reportRatio, simulatedEventChunks, startBenchInfra, startBenchService, type BenchInfra } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '6' },
    'insert-rows': { type: 'string', default: '50000' },
    'reference-passes': { type: 'string', default: '4' },
    days: { type: 'string', default: '1' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const totalEvents = Number(values.events);
const partitions = Number(values.partitions);
const insertRows = Number(values['insert-rows']);
const days = Number(values.days);
const referencePasses = Number(values['reference-passes']);
for (const [name, value] of Object.entries({ events: totalEvents, partitions, 'insert-rows': insertRows, days, 'reference-passes': referencePasses })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const aggregatorPort = 28084;
const runId = `bench_${Date.now().toString(36)}`;
const logger = createLogger({ service: 'bench', level: 'error' });
const families: FamilyName[] = ['truck', 'container', 'lane'];

async function freshDatabase(infra: BenchInfra, database: string): Promise<ClickHouseClient> {
  const settings = benchClickHouse(infra, database, logger);
  const bootstrap = createClickHouse({ ...settings, database: 'default' });
  await bootstrap.command({ query: `CREATE DATABASE ${database}` });
  await bootstrap.close();
  await applyMigrations(settings, loadMigrations(migrationsDirectory));
  return createClickHouse(settings);
}

async function stored(client: ClickHouseClient): Promise<{ raw: number; aggregated: number }> {
  const count = async (query: string) => Number((await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n ?? 0);
  return { raw: await count(`SELECT count() AS n FROM ${allRawEvents}`), aggregated: await count('SELECT sumMerge(events) AS n FROM throughput_1m') };
}

/** Raw rows as the aggregator writes them (derived times included), JSONEachRow bodies of `insertRows` per table. */
class ReferenceBodies {
  readonly bodies: { table: string; rows: number; body: Buffer }[] = [];
  private readonly pending = new Map<string, string[]>();
  private readonly journeys = new JourneyTracker();
  private readonly lanes = new LaneOpenTracker();
  private readonly catalog = loadCatalog();
  private offset = 0n;

  add(consumedFamily: FamilyName, event: ConsumedEvent['event']): void {
    const derived = { ...noDerived };
    if (consumedFamily === 'truck') Object.assign(derived, this.journeys.apply(event as TruckEvent));
    if (consumedFamily === 'lane') derived.openMs = this.lanes.apply(event as LaneEvent);
    const consumed: ConsumedEvent = { topic: `reference.${consumedFamily}`, partition: 0, offset: this.offset++, ingestedAt: event.observedAt, family: consumedFamily, schemaVersion: 1, event };
    const table = rawTables[consumedFamily];
    const rows = this.pending.get(table) ?? [];
    rows.push(JSON.stringify(rawRowOf(consumed, dimensionsOf(event, this.catalog), derived)));
    this.pending.set(table, rows);
    if (rows.length >= insertRows) this.flush(table);
  }

  flush(table?: string): void {
    for (const name of table ? [table] : [...this.pending.keys()]) {
      const rows = this.pending.get(name) ?? [];
      if (rows.length > 0) this.bodies.push({ table: name, rows: rows.length, body: Buffer.from(`${rows.join('\n')}\n`) });
      this.pending.set(name, []);
    }
  }
}

function insert(infra: BenchInfra, database: string, table: string, body: Buffer): Promise<void> {
  const url = new URL(infra.endpoints.CLICKHOUSE_URL);
  const query = encodeURIComponent(`INSERT INTO ${database}.${table} FORMAT JSONEachRow`);
  return new Promise((resolve, reject) => {
    const auth = `${infra.endpoints.CLICKHOUSE_USER}:${infra.endpoints.CLICKHOUSE_PASSWORD}`;
    const request = http.request({ host: url.hostname, port: url.port, path: `/?query=${query}`, method: 'POST', auth, headers: { 'content-length': body.length } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`ClickHouse answered ${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`))));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Inserts made by the aggregator, from its own /metrics (summed over the raw tables). */
function insertFigures(metrics: string): { count: number; meanRows: number; meanSeconds: number; totalSeconds: number } {
  const sum = (name: string) => metrics.split('\n').filter((line) => line.startsWith(`${name}{`)).reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
  const count = sum('tower_aggregator_insert_seconds_count');
  const totalSeconds = sum('tower_aggregator_insert_seconds_sum');
  return { count, meanRows: sum('tower_aggregator_batch_rows_sum') / Math.max(1, count), meanSeconds: totalSeconds / Math.max(1, count), totalSeconds };
}

/** Waits until the server merges nothing (at most 60 s: a merge that outlasts it is the machine's state, and is measured). */
async function mergesSettled(client: ClickHouseClient): Promise<void> {
  const deadline = performance.now() + 60_000;
  const merging = async () => Number((await (await client.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' })).json<{ n: string }>())[0]?.n ?? 0);
  while ((await merging()) > 0 && performance.now() < deadline) await sleep(200);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

print(`aggregator throughput benchmark: ${totalEvents} events, ${partitions} partitions per topic, run ${runId}`);
const infra = await startBenchInfra(values['keep-infra']);
let aggregator: Awaited<ReturnType<typeof startBenchService>> | undefined;
try {
  // 1. The backlog in Kafka, and the reference bodies built from the same events.
  const kafka = benchKafka(infra, 'bench-aggregator', logger);
  const admin = kafka.admin();
  await admin.connect();
  const topics = Object.fromEntries(families.map((f) => [f, `${runId}.${f}`])) as Record<FamilyName, string>;
  const extraTopics = { deadLetter: `${runId}.deadletter`, throughput: `${runId}.throughput`, journeys: `${runId}.journeys` };
  await createTopicsReady(
    admin,
    [...Object.values(topics).map((topic) => ({ topic, numPartitions: partitions })), ...Object.values(extraTopics).map((topic) => ({ topic, numPartitions: 1 }))].map((t) => ({ ...t, replicationFactor: infra.profile.kafka.replicationFactor })),
  );
  const producer = createProducer(kafka);
  await producer.connect();
  const codec = new EventCodec();
  const reference = new ReferenceBodies();
  const loadStarted = performance.now();
  let written = 0;
  for (const chunk of simulatedEventChunks(totalEvents, { seed: 21, rate: Math.ceil(9000 / days), days })) {
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const event of chunk) {
      const family = eventTypeSchemas.get(event.type)!.family;
      const messages = byTopic.get(topics[family.name]) ?? [];
      messages.push({ key: family.keyOf(event), value: codec.encode(family.name, event) });
      byTopic.set(topics[family.name], messages);
      reference.add(family.name, event);
    }
    // Slices small enough for the broker's largest request (a record batch per partition).
    for (const [topic, messages] of byTopic) {
      for (let i = 0; i < messages.length; i += 3000) await producer.send([{ topic, messages: messages.slice(i, i + 3000) }]);
    }
    written += chunk.length;
    if (written % 100_000 < chunk.length) print(`  backlog: ${written} events in Kafka`);
  }
  reference.flush();
  await producer.disconnect();
  print(`backlog of ${written} events written in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (not timed)`);

  // 3 (around 2). ClickHouse's own JSONEachRow insert of the same rows, same views, into a fresh database per pass,
  // each pass once the server's merges have settled (what the drain or the previous pass wrote is not merged on the
  // same cores while it runs).
  const cleanup = createClickHouse(benchClickHouse(infra, 'default', logger));
  const passSeconds: number[] = [];
  const referencePass = async (): Promise<void> => {
    await mergesSettled(cleanup);
    const pass = passSeconds.length + 1;
    const database = `${runId}_reference${pass}`;
    const referenceDb = await freshDatabase(infra, database);
    try {
      const insertStarted = performance.now();
      for (const { table, body } of reference.bodies) await insert(infra, database, table, body);
      const seconds = (performance.now() - insertStarted) / 1000;
      const referenceStored = await stored(referenceDb);
      if (referenceStored.raw !== totalEvents || referenceStored.aggregated !== totalEvents) throw new Error(`reference database holds ${referenceStored.raw} rows, ${referenceStored.aggregated} aggregated`);
      passSeconds.push(seconds);
      print(`  reference pass ${pass} of ${referencePasses}: ${Math.round(totalEvents / seconds)} rows/s in ${seconds.toFixed(2)} s`);
    } finally {
      await referenceDb.close();
      await cleanup.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    }
  };
  const passesBefore = Math.floor(referencePasses / 2);
  for (let pass = 0; pass < passesBefore; pass += 1) await referencePass();
  await mergesSettled(cleanup);

  // 2. One aggregator process drains it.
  const aggregatorDb = await freshDatabase(infra, `${runId}_aggregator`);
  const drainStarted = performance.now();
  aggregator = await startBenchService('aggregator', infra, aggregatorPort, {
    CLICKHOUSE_DATABASE: `${runId}_aggregator`,
    TOPIC_TRUCKS: topics.truck,
    TOPIC_CONTAINERS: topics.container,
    TOPIC_LANES: topics.lane,
    TOPIC_DEADLETTER: extraTopics.deadLetter,
    TOPIC_THROUGHPUT: extraTopics.throughput,
    TOPIC_JOURNEYS: extraTopics.journeys,
    CONSUMER_GROUP: `${runId}-aggregator`,
    CATALOG_FILE: path.resolve('seeds/site-catalog.json'),
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('AGGREGATOR_')).map(([name, value]) => [name.slice('AGGREGATOR_'.length), value ?? ''])),
  });
  const readySeconds = (performance.now() - drainStarted) / 1000;
  let progress = { raw: 0, aggregated: 0 };
  let firstRowAt: number | undefined;
  let lastReport = performance.now();
  let lastRaw = 0;
  const deadline = performance.now() + 30 * 60_000;
  while (progress.raw < totalEvents || progress.aggregated < totalEvents) {
    if (performance.now() > deadline) throw new Error(`the aggregator stored only ${progress.raw} rows in 30 minutes`);
    await sleep(250);
    progress = await stored(aggregatorDb);
    if (progress.raw > 0) firstRowAt ??= performance.now();
    if (performance.now() - lastReport >= 5000) {
      print(`  drain: ${progress.raw} rows (${Math.round(((progress.raw - lastRaw) * 1000) / (performance.now() - lastReport))} rows/s)`);
      lastReport = performance.now();
      lastRaw = progress.raw;
    }
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  const sustainedSeconds = (performance.now() - (firstRowAt ?? drainStarted)) / 1000;
  const inserts = insertFigures(await (await fetch(`http://127.0.0.1:${aggregatorPort}/metrics`)).text());
  await sleep(2000);
  const final = await stored(aggregatorDb);
  if (final.raw !== totalEvents || final.aggregated !== totalEvents) throw new Error(`aggregator database holds ${final.raw} rows, ${final.aggregated} aggregated; expected ${totalEvents}`);
  await aggregator.stop();
  aggregator = undefined;
  await aggregatorDb.close();
  await cleanup.command({ query: `DROP DATABASE IF EXISTS ${runId}_aggregator` });
  while (passSeconds.length < referencePasses) await referencePass();
  const referenceBytes = reference.bodies.reduce((sum, b) => sum + b.body.length, 0);
  await cleanup.close();
  await admin.deleteTopics({ topics: [...Object.values(topics), ...Object.values(extraTopics)] });
  await admin.disconnect();

  const aggregatorRate = totalEvents / drainSeconds;
  const sustainedRate = totalEvents / sustainedSeconds;
  const passRates = passSeconds.map((seconds) => totalEvents / seconds);
  const referenceRate = pooledRate(passRates);
  print();
  print(`machine: ${machineDescription()}`);
  print(`command: ${invocation()}`);
  print(`aggregator (1 process, ${partitions} partitions × 3 topics, 6 views on): ${totalEvents} events drained in ${drainSeconds.toFixed(1)} s from process start (ready after ${readySeconds.toFixed(1)} s) = ${Math.round(aggregatorRate)} events/s; from the first stored row ${Math.round(sustainedRate)} events/s`);
  print(`  aggregator inserts: ${inserts.count}, mean ${Math.round(inserts.meanRows)} rows, mean latency ${(inserts.meanSeconds * 1000).toFixed(0)} ms (${((inserts.totalSeconds / drainSeconds) * 100).toFixed(0)}% of the drain waiting on ClickHouse)`);
  print(`ClickHouse INSERT ... FORMAT JSONEachRow over HTTP (${insertRows} rows per insert, one at a time, same schema and views, mean of ${passSeconds.length} passes, ${passesBefore} before the drain): ${Math.round(referenceRate)} rows/s (fastest pass ${Math.round(Math.max(...passRates))}), ${reference.bodies.length} inserts of ${(referenceBytes / 2 ** 20).toFixed(0)} MiB per pass in ${(totalEvents / referenceRate).toFixed(1)} s`);
  print(`ratio aggregator / ClickHouse insert: ${(aggregatorRate / referenceRate).toFixed(2)} (drain incl. start), ${(sustainedRate / referenceRate).toFixed(2)} (sustained)`);
  // The guard's ratio: the whole drain, start included. "From the first stored row" is no rate once inserts merge
  // a whole short backlog into a few (200,000 events stored within 0.5 s of the first row: 0.69, then 1.00).
  reportRatio({ key: 'aggregator-throughput/drain-vs-clickhouse-insert', value: aggregatorRate / referenceRate, better: 'higher', meaning: 'aggregator events/s from process start to every row stored ÷ ClickHouse JSONEachRow rows/s' });
} finally {
  await aggregator?.stop();
  await infra.stop();
}
