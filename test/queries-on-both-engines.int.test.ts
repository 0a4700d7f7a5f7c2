/**
 * The queries the services render give the same answers on this machine's ClickHouse
 * 18.16 and on the current engine (chDB, as in docker-compose's image): the same raw
 * rows go into both, every query of the aggregator and the history API is recorded as
 * it runs on 18.16 and replayed in chDB, and the rows must match.
 */
import { describe, expect } from 'vitest';
import { JourneyTracker, bookingRow, deadLetterHeaders, eventTypeSchemas, loadCatalog, loadMigrations, readSlotBookings, readSlotWindows, windowRow, type SlotBooking, type ClickHouseClient, type ConsumedEvent, type LaneEvent, type TowerEvent, type TruckEvent } from '@tower/shared';
import { test, uniqueName } from '@tower/shared/testing';
import { parseJsonEachRow, runInChdb } from '../infra/clickhouse/chdb.ts';
import { LaneOpenTracker } from '../services/aggregator/src/domain/lanes.ts';
import { dimensionsOf, noDerived, rawRowOf, rawTables, type RawRow } from '../services/aggregator/src/domain/rows.ts';
import { EventStore, defaultStoreSettings } from '../services/aggregator/src/store.ts';
import { migrate, migrationsDirectory } from '../services/aggregator/src/test-support.ts';
import { HistoryStore } from '../services/live/src/history/store.ts';
import { deadLetterRowOf } from '../services/aggregator/src/dead-letters.ts';
import { listDeadLetters } from '../infra/dlq/dlq.ts';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';

const catalog = loadCatalog();

/** Raw-table inserts of simulated traffic, with derived times as the aggregator computes them. */
function rawInserts(events: readonly TowerEvent[]): string[] {
  const journeys = new JourneyTracker();
  const lanes = new LaneOpenTracker();
  const rows = new Map<string, RawRow[]>();
  events.forEach((event, offset) => {
    const family = eventTypeSchemas.get(event.type)!.family.name;
    const consumed: ConsumedEvent = { topic: `tower.${family}`, partition: 0, offset: BigInt(offset), ingestedAt: event.observedAt + 50, family, schemaVersion: 1, event };
    const derived = { ...noDerived };
    if (family === 'truck') Object.assign(derived, journeys.apply(event as TruckEvent));
    if (family === 'lane') derived.openMs = lanes.apply(event as LaneEvent);
    const table = rawTables[family];
    rows.set(table, [...(rows.get(table) ?? []), rawRowOf(consumed, dimensionsOf(event, catalog), derived)]);
  });
  return [...rows].map(([table, tableRows]) => `INSERT INTO ${table} FORMAT JSONEachRow\n${tableRows.map((r) => JSON.stringify(r)).join('\n')}`);
}

/** A client that runs queries on the real server and keeps each query with its answer. */
function recording(client: ClickHouseClient) {
  const log: { query: string; rows: Record<string, unknown>[] }[] = [];
  const recorder = {
    async query(params: { query: string; format: 'JSONEachRow' }) {
      const rows = await (await client.query(params)).json<Record<string, unknown>>();
      log.push({ query: params.query, rows });
      return { json: async () => rows };
    },
  } as unknown as ClickHouseClient;
  return { recorder, log };
}

/** Numbers as numbers (18.16 quotes 64-bit integers, chDB does not), rows in a stable order. */
function normalised(rows: Record<string, unknown>[]): string[] {
  const value = (v: unknown): unknown => (Array.isArray(v) ? v.map(value) : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
  return rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, value(v)])))).sort();
}

/** Every migration, the same inserts and each recorded query in chDB: no statement refused, every answer the same rows as on 18.16. */
function expectSameInChdb(inserts: readonly string[], log: readonly { query: string; rows: Record<string, unknown>[] }[]): void {
    const migrations = loadMigrations(migrationsDirectory).flatMap((m) => m.statements);
    const statements = [...migrations, ...inserts, ...log.map((entry) => entry.query)];
    const { results } = runInChdb(statements);
    expect(results.flatMap((r, i) => (r.ok ? [] : [`${statements[i]!.slice(0, 80)}: ${r.error}`]))).toEqual([]);
    const answers = results.slice(migrations.length + inserts.length);
    log.forEach((entry, i) => {
      expect(normalised(parseJsonEachRow(answers[i]!.output ?? '')), entry.query).toEqual(normalised(entry.rows));
    });
}

describe('rendered queries on ClickHouse 18.16 and on the current engine', () => {
  test('the aggregator and history queries give the same rows on both', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const events = new TrafficSimulation(catalog, { seed: 3, rate: 40, start: end - 2 * 3600_000 }).advanceTo(end);
    expect(events.length).toBeGreaterThan(500);
    const inserts = rawInserts(events);
    for (const insert of inserts) await clickhouse.client.command({ query: insert });

    const { recorder, log } = recording(clickhouse.client);
    const history = new HistoryStore(recorder);
    const range = { fromSeconds: (end - 2 * 3600_000) / 1000, toSeconds: end / 1000 + 60 };
    for (const step of ['1m', '5m', '1h', '1d'] as const) await history.series({ ...range, site: 'bac-luan-2', step });
    await history.series({ ...range, lane: 'bl2-smart-ex-1', laneKind: 'smart', step: '5m' });
    await history.total({ ...range, site: 'van-ninh' });
    await history.byLane(range);
    await history.clearances(range);
    // People at Bắc Luân I's gates: the last hour (inside) and the day (the whole range), as the KPIs read them.
    await history.people({ lastHourFromSeconds: range.toSeconds - 3600, todayFromSeconds: range.fromSeconds, toSeconds: range.toSeconds });
    await history.laneStates('bac-luan-2', end - 86_400_000);
    await history.laneStates(undefined, end - 86_400_000);
    const plate = (events.find((e) => e.type === 'truck.gate-out') as TruckEvent).plate;
    await history.plateEvents(plate, end - 86_400_000);
    await history.recentPlateEvents({ site: 'bac-luan-2' }, end - 3600_000, end - 6 * 3600_000, 20);
    await history.recentPlateEvents({ plate }, end - 3600_000, end - 6 * 3600_000, 20);
    // A prefix of its own: another test's inserts running meanwhile would be in the answer about the server's queries, not in chDB's.
    const aggregatorStore = new EventStore(recorder, undefined, { ...defaultStoreSettings, insertQueryIdPrefix: `${uniqueName('aggregator')}:insert:` });
    await aggregatorStore.loadPartition('truck', 'tower.truck', 0, 100);
    await aggregatorStore.loadPartition('lane', 'tower.lane', 0, 100);
    const lastMinute = end / 1000 - 60;
    await aggregatorStore.windows([{ site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart: lastMinute }, { site: 'van-ninh', lane: '', direction: '', laneKind: '', windowStart: lastMinute - 60 }]);
    expect(log.length).toBeGreaterThan(15);
    expect(log.filter((entry) => entry.rows.length > 0).length).toBeGreaterThan(12);

    expectSameInChdb(inserts, log);
  });

  test('the dead-letter queries (npm run dlq) give the same rows on both', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const now = Date.now();
    const letters = Array.from({ length: 30 }, (_, i) =>
      deadLetterRowOf(i % 5 ? 'tower.deadletter.v1' : 'tower.deadletter.old', i % 3, {
        key: Buffer.from(`plate-${i}`),
        value: Buffer.from([0xc3, 0x01, i]),
        timestamp: String(now),
        attributes: 0,
        offset: String(i),
        headers: { 'tower-device': 'VN-TOS', [deadLetterHeaders.sourceTopic]: i % 2 ? 'tower.containers.v1' : 'tower.trucks.v1', [deadLetterHeaders.sourcePartition]: String(i % 6), [deadLetterHeaders.sourceOffset]: String(1000 + i), [deadLetterHeaders.reason]: i % 4 ? 'handler-permanent' : 'corrupt-body', [deadLetterHeaders.detail]: "Code: 72, it's refused", [deadLetterHeaders.errorKind]: i % 4 ? 'permanent' : 'decode', [deadLetterHeaders.consumer]: 'tower-aggregator', [deadLetterHeaders.at]: String(now - i * 3600_000) },
      }),
    );
    const inserts = [`INSERT INTO dead_letters FORMAT JSONEachRow\n${letters.map((l) => JSON.stringify(l)).join('\n')}`];
    for (const insert of inserts) await clickhouse.client.command({ query: insert });
    const { recorder, log } = recording(clickhouse.client);
    expect(await listDeadLetters(recorder)).toHaveLength(30);
    expect((await listDeadLetters(recorder, { topic: 'tower.containers.v1', since: now - 10.5 * 3600_000 })).map((l) => l.sourceOffset)).toEqual(['1009', '1007', '1005', '1003', '1001']);
    expect(await listDeadLetters(recorder, { reason: 'corrupt-body', limit: 3 })).toHaveLength(3);
    // An id names the dead-letter topic: the same partition and offset under another topic is not that letter.
    expect((await listDeadLetters(recorder, { id: 'tower.deadletter.v1:1:7' }))[0]?.headers).toEqual({ 'tower-device': 'VN-TOS' });
    expect((await listDeadLetters(recorder, { id: 'tower.deadletter.old:1:10' })).map((l) => [l.id, l.dlqTopic, l.sourceOffset])).toEqual([['tower.deadletter.old:1:10', 'tower.deadletter.old', '1010']]);
    expect(await listDeadLetters(recorder, { id: 'tower.deadletter.v1:1:10' })).toEqual([]);
    expectSameInChdb(inserts, log);
  });

  test('the slot history queries (live gateway snapshots) give the same rows on both', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const windowMs = 30 * 60_000;
    const start = Math.floor(Date.now() / windowMs) * windowMs;
    const bookings: SlotBooking[] = [];
    const windows = [];
    for (let i = 0; i < 40; i += 1) {
      const windowStart = start + (i % 4) * windowMs;
      const held: SlotBooking = { id: `bk_${String(i).padStart(20, '0')}`, firm: i % 3 ? 'haiha-logistics' : 'donghung-trade', plate: `14C-500.${String(i).padStart(2, '0')}`, cargoClass: 'textiles', site: i % 5 ? 'bac-luan-2' : 'van-ninh', laneKind: i % 5 ? 'smart' : 'port-gate', direction: 'export', windowStart, windowEnd: windowStart + windowMs, state: 'held', heldUntil: start + 300_000, createdAt: start, updatedAt: start, arrivedAt: null, cancelledBy: null };
      bookings.push(held);
      if (i % 2) bookings.push({ ...held, state: 'confirmed', updatedAt: start + 1000 });
      if (i % 4 === 1) bookings.push({ ...held, state: 'cancelled', updatedAt: start + 2000, cancelledBy: 'operator' });
      windows.push({ site: held.site, laneKind: held.laneKind, direction: held.direction, windowStart, windowEnd: windowStart + windowMs, capacity: 360, held: i % 7, booked: i, free: 360 - i - (i % 7), closed: i % 11 === 0, version: i + 1 });
    }
    const inserts = [`INSERT INTO slot_bookings FORMAT JSONEachRow\n${bookings.map((b) => JSON.stringify(bookingRow(b))).join('\n')}`, `INSERT INTO slot_windows FORMAT JSONEachRow\n${windows.map((w) => JSON.stringify(windowRow(w))).join('\n')}`];
    for (const insert of inserts) await clickhouse.client.command({ query: insert });
    const { recorder, log } = recording(clickhouse.client);
    const range = { fromMs: start - windowMs, toMs: start + 3 * windowMs };
    expect(await readSlotBookings(recorder, { ...range, firm: 'haiha-logistics', maxRows: 1000 })).toHaveLength(20);
    expect((await readSlotBookings(recorder, { ...range, maxRows: 1000 })).filter((b) => b.state === 'cancelled')).toHaveLength(10);
    const bl2 = await readSlotWindows(recorder, { ...range, windowMs, site: 'bac-luan-2' });
    expect(bl2).toHaveLength(3);
    expect(bl2.every((w) => w.windowEnd === w.windowStart + windowMs)).toBe(true);
    const newest = new Map<string, number>();
    for (const w of windows) if (w.windowStart < range.toMs) newest.set(`${w.site}|${w.windowStart}`, Math.max(newest.get(`${w.site}|${w.windowStart}`) ?? 0, w.version));
    expect((await readSlotWindows(recorder, { ...range, windowMs })).map((w) => w.version).sort((a, b) => a - b)).toEqual([...newest.values()].sort((a, b) => a - b));

    expectSameInChdb(inserts, log);
  });
});
