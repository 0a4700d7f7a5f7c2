/**
 * The KPI round's lane states (issue 19, item 8): each lane's last state event and last
 * queue sample of the last 7 days, read by the live gateway every 2 s. Read from the
 * per-day aggregate `lane_last_1d` (migration 0009, `HistoryStore.laneStates`) against
 * the reference in the same run: the same answer from the raw `lane_events`, the query
 * used before (`laneStatesFromRawRows`). A week of lane events is written server-side
 * (`INSERT … SELECT … FROM numbers()`, through the view) into a database of its own on
 * the bench profile's ClickHouse; both reads must give the same lanes.
 *
 *   npx tsx loadtests/bench/lane-states.ts [--events 3000000] [--days 7] [--reads 20] [--keep-infra]
 */
import { parseArgs } from 'node:util';
import { applyMigrations, createClickHouse, createLogger, loadCatalog, loadMigrations, type ClickHouseClient } from '@tower/shared';
import { migrationsDirectory } from '../../services/aggregator/src/test-support.ts';
import { laneStatesFromRawRows } from '../../services/live/src/history/lane-states-reference.ts';
import { HistoryStore } from '../../services/live/src/history/store.ts';
import { benchClickHouse, invocation, machineDescription, percentile, print, reportRatio, startBenchInfra } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '3000000' },
    days: { type: 'string', default: '7' },
    reads: { type: 'string', default: '20' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const days = Number(values.days);
const reads = Number(values.reads);
for (const [name, value] of Object.entries({ events, days, reads })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const logger = createLogger({ service: 'bench', level: 'error' });
const database = `bench_lanes_${Date.now().toString(36)}`;
const dayMs = 86_400_000;

/** The catalog's lanes as ClickHouse array literals: the written events go round them. */
function laneArrays(): { sites: string; lanes: string; count: number } {
  const lanes = loadCatalog().document.sites.flatMap((site) => site.lanes.map((lane) => [site.id, lane.id] as const));
  const literal = (items: readonly string[]) => `[${items.map((item) => `'${item.replace(/'/g, "\\'")}'`).join(', ')}]`;
  return { sites: literal(lanes.map(([site]) => site)), lanes: literal(lanes.map(([, lane]) => lane)), count: lanes.length };
}

/** `events` lane events spread evenly over the last `days` days: states, queue samples (with a length) and telemetry. */
async function writeWeek(client: ClickHouseClient, end: number): Promise<number> {
  const { sites, lanes, count } = laneArrays();
  const types = "['lane.queue-sampled', 'lane.queue-sampled', 'lane.queue-sampled', 'lane.igv-telemetry', 'lane.opened', 'lane.congested', 'lane.cleared', 'lane.fault', 'lane.closed', 'lane.person-crossed']";
  const start = end - days * dayMs;
  const step = (days * dayMs) / events;
  const started = Date.now();
  await client.command({
    query: `INSERT INTO lane_events (event_id, type, site, lane, observed_at, observed_ms, ingested_ms, source, queue_length, has_queue_length, kafka_topic, kafka_offset)
      SELECT concat('bench-', toString(number)) AS event_id, arrayElement(${types}, (intHash32(number) % 10) + 1) AS type,
        arrayElement(${sites}, (number % ${count}) + 1) AS site, arrayElement(${lanes}, (number % ${count}) + 1) AS lane,
        toDateTime(intDiv(observed_ms, 1000)) AS observed_at, toUInt64(${start} + floor(number * ${step})) AS observed_ms, observed_ms + 50 AS ingested_ms,
        'bench' AS source, toUInt32(intHash32(number + 1) % 40) AS queue_length, toUInt8(type IN ('lane.queue-sampled', 'lane.congested')) AS has_queue_length,
        'tower.lanes.v1' AS kafka_topic, number AS kafka_offset
      FROM numbers(${events})`,
  });
  return Date.now() - started;
}

/** `reads` reads, one after another: their times in ms, sorted, and the last answer. */
async function timed<T>(read: () => Promise<T>): Promise<{ ms: number[]; answer: T }> {
  let answer = await read();
  const ms: number[] = [];
  for (let i = 0; i < reads; i += 1) {
    const started = process.hrtime.bigint();
    answer = await read();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { ms: ms.sort((a, b) => a - b), answer };
}

print(`lane states benchmark: ${events.toLocaleString('en')} lane events over ${days} days, ${reads} reads each`);
const infra = await startBenchInfra(values['keep-infra']);
const settings = benchClickHouse(infra, database, logger);
const admin = createClickHouse({ ...settings, database: 'default' });
await admin.command({ query: `CREATE DATABASE ${database}` });
try {
  await applyMigrations(settings, loadMigrations(migrationsDirectory));
  const client = createClickHouse(settings);
  try {
    const end = Date.now();
    const writtenMs = await writeWeek(client, end);
    const since = end - days * dayMs;
    const aggregate = await timed(() => new HistoryStore(client).laneStates(undefined, since));
    const raw = await timed(() => laneStatesFromRawRows(client, undefined, since));
    const key = (s: { site: string; lane: string }) => `${s.site}/${s.lane}`;
    const sameLanes = JSON.stringify(aggregate.answer.map(key).sort()) === JSON.stringify(raw.answer.map(key).sort());
    if (!sameLanes || aggregate.answer.length === 0) throw new Error(`the two reads disagree: ${aggregate.answer.length} lanes from the aggregate, ${raw.answer.length} from the raw rows`);
    const rows = async (table: string) => (await (await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string }>())[0]!.n;
    const figures = (ms: number[]) => `median ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms`;
    print('');
    print(`machine: ${machineDescription()}`);
    print(`command: ${invocation()}`);
    print(`written: ${Number(await rows('lane_events')).toLocaleString('en')} lane_events rows in ${(writtenMs / 1000).toFixed(1)} s (through the views); lane_last_1d holds ${Number(await rows('lane_last_1d')).toLocaleString('en')} rows before merges`);
    print(`lane states of ${aggregate.answer.length} lanes since ${days} days ago, from lane_last_1d: ${figures(aggregate.ms)}`);
    print(`the same from the raw lane_events (the query before migration 0009, reference): ${figures(raw.ms)}`);
    reportRatio({ key: 'lane-states/aggregate-vs-raw-read', value: percentile(aggregate.ms, 50) / percentile(raw.ms, 50), better: 'lower', meaning: 'median read of lane states from lane_last_1d ÷ the same read from the raw lane_events' });
  } finally {
    await client.close();
  }
} finally {
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
  await infra.stop();
}
