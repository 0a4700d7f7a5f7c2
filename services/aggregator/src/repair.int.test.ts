/**
 * AggregateRepair on the real 18.16 server and, replayed statement by statement, on the
 * current engine (chDB): raw rows stored without their views' rows (what a ClickHouse
 * killed between an insert's raw part and its views' parts leaves, drill
 * clickhouse-kill) are found and their windows rebuilt to exactly what an insert
 * without a fault gives; windows that agree are left alone. An insert of the
 * aggregator's still running on the server (its process gone, or its request dead) is
 * waited for, within a budget, before a comparison and before a partition's load.
 */
import { describe, expect } from 'vitest';
import { createClickHouse, eventTypeSchemas, loadCatalog, loadMigrations, type ClickHouseClient, type TowerEvent } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { parseJsonEachRow, runInChdb } from '../../../infra/clickhouse/chdb.ts';
import { dimensionsOf, noDerived, rawRowOf, rawTables, type RawRow } from './domain/rows.ts';
import { AggregateRepair, RepairWaitExceeded, type RebuiltWindow } from './repair.ts';
import { EventStore } from './store.ts';
import { migrate, migrationsDirectory, queryRows } from './test-support.ts';
import { TrafficSimulation } from '../../simulator/src/domain/traffic.ts';

const catalog = loadCatalog();

function rowsOf(events: readonly TowerEvent[], firstOffset: number): Map<string, RawRow[]> {
  const byTable = new Map<string, RawRow[]>();
  events.forEach((event, i) => {
    const family = eventTypeSchemas.get(event.type)!.family.name;
    const row = rawRowOf({ topic: family, partition: 0, offset: BigInt(firstOffset + i), ingestedAt: event.observedAt, family, schemaVersion: 1, event }, dimensionsOf(event, catalog), noDerived);
    byTable.set(rawTables[family], [...(byTable.get(rawTables[family]) ?? []), row]);
  });
  return byTable;
}

const insertsOf = (byTable: Map<string, RawRow[]>) => [...byTable].map(([table, rows]) => `INSERT INTO ${table} FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);

/** Every aggregate's figures per window, in a stable text form: what must not differ from a run without the fault. */
const everyWindow = [
  `SELECT toUInt32(window_start) AS w, site, lane, direction, lane_kind, sumMerge(events) AS events, sumMerge(trucks_crossed) AS crossed, sumMerge(gross_kg) AS kg, sumMerge(teu_moved) AS teu,
     maxIfMerge(queue_max) AS qmax, toString(quantilesExactIfMerge(0.5, 0.95)(clearance_ms)) AS clearance, sumMerge(lane_open_ms) AS open_ms FROM throughput_1m GROUP BY w, site, lane, direction, lane_kind ORDER BY w, site, lane, direction, lane_kind`,
  'SELECT toUInt32(window_start) AS w, site, lane, direction, lane_kind, sumMerge(events) AS events, sumMerge(gross_kg) AS kg FROM throughput_1h GROUP BY w, site, lane, direction, lane_kind ORDER BY w, site, lane, direction, lane_kind',
  'SELECT toUInt32(window_start) AS w, site, lane, direction, sumMerge(people) AS people FROM people_1m GROUP BY w, site, lane, direction ORDER BY w, site, lane, direction',
  'SELECT toString(day) AS d, site, lane, type, maxMerge(last_ms) AS last_ms, argMaxIfMerge(queue_length) AS queue, maxIfMerge(queue_ms) AS queue_ms FROM lane_last_1d GROUP BY d, site, lane, type ORDER BY d, site, lane, type',
];

/** Every view the raw tables feed: detached, they miss an insert as a server killed between its parts would. */
const viewsOfRawTables = ['1m', '1h']
  .flatMap((step) => Object.values(rawTables).map((table) => `throughput_${step}_from_${table}`))
  .concat('people_1m_from_lane_events', 'lane_last_1d_from_lane_events');

/** A client that runs everything on the real server and keeps each statement, for the replay in chDB. */
function recording(client: ClickHouseClient) {
  const statements: string[] = [];
  const recorder = {
    async query(params: { query: string; format: 'JSONEachRow' }) {
      statements.push(params.query);
      return client.query(params);
    },
    async command(params: { query: string }) {
      statements.push(params.query);
      return client.command(params);
    },
  } as unknown as ClickHouseClient;
  return { recorder, statements };
}

const normalised = (rows: Record<string, unknown>[]) => rows.map((row) => JSON.stringify(Object.values(row).map((v) => (typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : v))));

/**
 * Inserts of an earlier aggregator (their query ids have `prefix`) still running on the
 * server: 25 truck rows wait in a table without views, and each insert copies them
 * slowly (0.2 s a row), so it runs for about 5 s. `start` resolves once it runs.
 */
async function earlierInserts(clickhouse: { client: ClickHouseClient }, prefix: string) {
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const events = new TrafficSimulation(catalog, { seed: 4, rate: 30, start: end - 30 * 60_000 }).advanceTo(end).filter((e) => e.type.startsWith('truck.'));
  const rows = rowsOf(events, 0).get(rawTables.truck)!.slice(0, 25);
  expect(rows).toHaveLength(25);
  await clickhouse.client.command({ query: `CREATE TABLE held_rows AS ${rawTables.truck} ENGINE = Memory` });
  // One block a row (a Memory table keeps the blocks as inserted): ClickHouse sleeps at most 3 s a block.
  for (const row of rows) await clickhouse.client.insert({ table: 'held_rows', values: [row], format: 'JSONEachRow' });
  const start = async (name: string) => {
    const insert = clickhouse.client.command({ query: `INSERT INTO ${rawTables.truck} SELECT * FROM held_rows WHERE sleepEachRow(0.2) = 0`, query_id: `${prefix}${name}` });
    await eventually(
      async () => {
        const [running] = await queryRows<{ n: string }>(clickhouse.client, `SELECT count() AS n FROM system.processes WHERE query_id = '${prefix}${name}'`);
        return running?.n === '1' ? true : undefined;
      },
      { what: 'the earlier insert running on the server', timeoutMs: 60_000 },
    );
    return { done: insert };
  };
  return { rows, start };
}

const looksAtProcesses = (statement: string) => /\bFROM system\.processes\b/.test(statement);

describe('aggregates repaired from the raw rows (real ClickHouse 18.16 and chDB)', () => {
  test('raw rows stored without their views are found, their windows rebuilt as a run without the fault has them, and agreeing windows left alone', { timeout: 180_000 }, async ({ clickhouse, logger }) => {
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const events = new TrafficSimulation(catalog, { seed: 9, rate: 30, start: end - 90 * 60_000 }).advanceTo(end);
    expect(events.length).toBeGreaterThan(1000);
    const half = Math.floor(events.length / 2);
    const before = rowsOf(events.slice(0, half), 0);
    const lost = rowsOf(events.slice(half), half);

    // The first half is stored whole; the second half's raw parts are stored, its views' parts are not.
    const stored = insertsOf(before);
    const fault = [...viewsOfRawTables.map((v) => `DETACH TABLE ${v}`), ...insertsOf(lost), ...viewsOfRawTables.map((v) => `ATTACH TABLE ${v}`)];

    // The control: the same rows inserted without a fault.
    const control = `${clickhouse.settings.database}_control`;
    const admin = createClickHouse({ ...clickhouse.settings, database: 'default' });
    await admin.command({ query: `CREATE DATABASE ${control}` });
    const controlClient = createClickHouse({ ...clickhouse.settings, database: control });
    try {
      await migrate({ ...clickhouse.settings, database: control });
      for (const insert of [...insertsOf(before), ...insertsOf(lost)]) await controlClient.command({ query: insert });
      await migrate(clickhouse.settings);
      const { recorder, statements } = recording(clickhouse.client);
      for (const statement of stored) await recorder.command({ query: statement });
      const rebuiltByTable = new Map<string, readonly RebuiltWindow[]>();
      const repair = new AggregateRepair(recorder, { insertQueryIdPrefix: `${uniqueName('aggregator')}:insert:`, waitBudgetMs: 60_000 }, (table, windows) => rebuiltByTable.set(table, windows));
      // In doubt but stored whole: nothing to rebuild.
      for (const rows of before.values()) repair.noteFailed(rows);
      expect(await repair.run()).toBe(0);
      expect(repair.pending).toBe(false);

      for (const statement of fault) await recorder.command({ query: statement });
      const read = async (client: ClickHouseClient) => Promise.all(everyWindow.map(async (q) => normalised(await queryRows<Record<string, unknown>>(client, q))));
      const expected = await read(controlClient);
      expect(await read(clickhouse.client)).not.toEqual(expected);

      for (const rows of lost.values()) repair.noteFailed(rows);
      const rebuilt = await repair.run();
      expect(rebuilt).toBeGreaterThan(0);
      expect([...rebuiltByTable.keys()].sort()).toEqual(['people_1m', 'throughput_1h', 'throughput_1m']);
      expect(Object.keys(rebuiltByTable.get('throughput_1m')![0]!).sort()).toEqual(['direction', 'lane', 'lane_kind', 'site', 'window_start']);
      expect([...rebuiltByTable.values()].reduce((sum, windows) => sum + windows.length, 0)).toBe(rebuilt);
      expect(await read(clickhouse.client)).toEqual(expected);
      // Once agreed, a second look rebuilds nothing.
      for (const rows of lost.values()) repair.noteFailed(rows);
      expect(await repair.run()).toBe(0);

      // The current engine: the same setup, every statement the repair sent, the same figures.
      const migrations = loadMigrations(migrationsDirectory).flatMap((m) => m.statements);
      const replay = [...migrations, ...statements, ...everyWindow];
      const { results } = runInChdb(replay, clickhouse.settings.database);
      expect(results.flatMap((r, i) => (r.ok ? [] : [`${replay[i]!.slice(0, 100)}: ${r.error}`]))).toEqual([]);
      const answers = results.slice(-everyWindow.length).map((r) => normalised(parseJsonEachRow(r.output ?? '')));
      expect(answers).toEqual(expected);
      logger.info({ rebuilt, statements: statements.length }, 'repair checked on both engines');
    } finally {
      await controlClient.close();
      await admin.command({ query: `DROP DATABASE IF EXISTS ${control}` });
      await admin.close();
    }
  });

  test('a deletion the server finishes only after the run gave up is not sent again: the next run inserts the windows it emptied', { timeout: 180_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const events = new TrafficSimulation(catalog, { seed: 6, rate: 30, start: end - 30 * 60_000 }).advanceTo(end);
    // Every other event's views lost: the 1-minute windows hold some of their rows, not all.
    const stored = rowsOf(events.filter((_, i) => i % 2 === 0), 0);
    const lost = rowsOf(events.filter((_, i) => i % 2 === 1), events.length);

    for (const statement of [...insertsOf(stored), ...viewsOfRawTables.map((v) => `DETACH TABLE ${v}`), ...insertsOf(lost), ...viewsOfRawTables.map((v) => `ATTACH TABLE ${v}`)]) await clickhouse.client.command({ query: statement });
    const deletions = async () => Number((await queryRows<{ n: string }>(clickhouse.client, `SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND table = 'throughput_1m'`))[0]!.n);
    const counted = async () => (await queryRows<{ n: string }>(clickhouse.client, `SELECT toString(sumMerge(events)) AS n FROM throughput_1m`))[0]!.n;
    const repair = new AggregateRepair(clickhouse.client, { insertQueryIdPrefix: `${uniqueName('aggregator')}:insert:`, waitBudgetMs: 1000 });
    for (const rows of lost.values()) repair.noteFailed(rows);
    // A server slower than the budget at each deletion: ClickHouse holds the 1-minute table's mutations while its merges are stopped.
    const merges = (verb: 'STOP' | 'START') => clickhouse.client.command({ query: `SYSTEM ${verb} MERGES throughput_1m` });
    await merges('STOP');
    try {
      await expect(repair.run()).rejects.toThrow(RepairWaitExceeded);
      // One deletion per thousand windows (how many differ depends on the minute the test starts), all sent before the wait.
      const sent = await deletions();
      expect(sent).toBeGreaterThanOrEqual(1);
      // The deletion finishes after the run gave up…
      await merges('START');
      await eventually(async () => ((await queryRows<{ n: string }>(clickhouse.client, `SELECT count() AS n FROM system.mutations WHERE database = currentDatabase() AND is_done = 0`))[0]!.n === '0' ? true : undefined), {
        what: 'the deletion done on the server',
        timeoutMs: 120_000,
      });
      // …and the next run, on a server as slow (a new deletion would not finish), inserts the emptied windows without deleting again.
      await merges('STOP');
      expect(await repair.run()).toBeGreaterThan(0);
      expect(repair.pending).toBe(false);
      expect(await deletions()).toBe(sent);
      expect(await counted()).toBe(String(events.length));
    } finally {
      await merges('START');
    }
  });

  test('compares only once no insert of the aggregator sent earlier still runs on the server, and gives up within its budget while one does', { timeout: 180_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const prefix = `${uniqueName('aggregator')}:insert:`;
    const { rows, start: earlierInsert } = await earlierInserts(clickhouse, prefix);
    const stored = async () => Number((await queryRows<{ n: string }>(clickhouse.client, `SELECT count() AS n FROM ${rawTables.truck}`))[0]!.n);

    // Bounded: while the earlier insert runs, a run with a short budget fails (retried with the batch), the doubt kept, nothing compared.
    const stuck = await earlierInsert('stuck');
    const impatient = recording(clickhouse.client);
    const short = new AggregateRepair(impatient.recorder, { insertQueryIdPrefix: prefix, waitBudgetMs: 300 });
    short.noteFailed(rows);
    await expect(short.run()).rejects.toThrow(RepairWaitExceeded);
    expect(short.pending).toBe(true);
    expect(impatient.statements.filter((s) => !looksAtProcesses(s))).toEqual([]);
    await stuck.done;

    // Patient: it compares only once the earlier insert is done on the server, so its rows are there when it does.
    const held = await earlierInsert('held');
    const { recorder, statements } = recording(clickhouse.client);
    const repair = new AggregateRepair(recorder, { insertQueryIdPrefix: prefix, waitBudgetMs: 120_000 });
    repair.noteFailed(rows);
    const storedWhenCompared = repair.run().then(async (rebuilt) => ({ rebuilt, stored: await stored() }));
    // Both earlier inserts' rows (raw and views alike): nothing to rebuild.
    expect(await storedWhenCompared).toEqual({ rebuilt: 0, stored: 2 * rows.length });
    expect(statements.filter(looksAtProcesses).length).toBeGreaterThan(2);
    expect(statements.some((s) => /\bsumMerge\(/.test(s))).toBe(true);
    await held.done;
  });

  test('a partition is loaded only once no insert of the aggregator sent earlier still runs on the server: its rows are not sent again', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const prefix = `${uniqueName('aggregator')}:insert:`;
    const { rows, start: earlierInsert } = await earlierInserts(clickhouse, prefix);
    const store = new EventStore(clickhouse.client, undefined, { insertQueryIdPrefix: prefix, waitBudgetMs: 120_000 });
    const earlier = await earlierInsert('before-a-crash');
    const loaded = await store.loadPartition('truck', 'truck', 0, 100);
    expect([loaded.maxOffset, loaded.recentIds.length]).toEqual([BigInt(rows.length - 1), rows.length]);
    await earlier.done;
  });
});

