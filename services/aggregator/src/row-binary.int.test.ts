/**
 * The RowBinary encoders round-trip on the real 18.16 server and on the current engine
 * (chDB): every raw table's rows written by the aggregator's encoder read back exactly as
 * the same rows inserted as JSONEachRow (the format ClickHouse parses on every version),
 * Vietnamese and Chinese text, strings past one length byte, offsets past 2^53 and empty
 * arrays included; and the declared columns are the migrations' columns, with their types.
 */
import { describe, expect } from 'vitest';
import { JourneyTracker, eventTypeSchemas, loadCatalog, loadMigrations, type ConsumedEvent, type FamilyName, type LaneEvent, type TowerEvent, type TruckEvent } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { parseJsonEachRow, runInChdb } from '../../../infra/clickhouse/chdb.ts';
import { TrafficSimulation } from '../../simulator/src/domain/traffic.ts';
import { dimensionsOf, noDerived, rawColumns, rawRowOf, rawTables, type Derived } from './domain/rows.ts';
import { EventStore } from './store.ts';
import { migrate, migrationsDirectory, queryRows } from './test-support.ts';

const catalog = loadCatalog();
const families: FamilyName[] = ['truck', 'container', 'lane'];

/** A simulated half hour of every family, with the awkward values a row can carry. */
function consumedEvents(): { consumed: ConsumedEvent; derived: Derived }[] {
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const events: TowerEvent[] = new TrafficSimulation(catalog, { seed: 11, rate: 20, start: end - 30 * 60_000 }).advanceTo(end);
  const lane = events.find((e) => e.type.startsWith('lane.')) as LaneEvent;
  events.push({ ...lane, eventId: 'fault-with-text', type: 'lane.fault', faultCode: 'CAM-7', detail: `Camera mờ do sương mù — 摄像头起雾 ${'x'.repeat(200)}`, observedAt: lane.observedAt } as LaneEvent);
  const journeys = new JourneyTracker();
  return events.map((event, i) => {
    const family = eventTypeSchemas.get(event.type)!.family.name;
    const derived = family === 'truck' ? { ...journeys.apply(event as TruckEvent), openMs: 0 } : { ...noDerived, openMs: family === 'lane' ? 1_234 * i : 0 };
    return { consumed: { topic: `tower.${family}s.v1`, partition: i % 3, offset: 2n ** 60n + BigInt(i), ingestedAt: event.observedAt + 17, family, schemaVersion: 1, event }, derived };
  });
}

/** A string literal holding any bytes, for `format(RowBinary, ...)` in a statement. */
const bytesLiteral = (bytes: Buffer) => `'${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;

describe('RowBinary encoders (real ClickHouse 18.16 and chDB)', () => {
  test('each raw table reads back the same from RowBinary as from JSONEachRow, and its declared columns are the table\'s', { timeout: 180_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const all = consumedEvents();
    const store = new EventStore(clickhouse.client);
    const chdbStatements = loadMigrations(migrationsDirectory).flatMap((m) => m.statements);
    const compared: { family: FamilyName; rows: number; inChdb: number }[] = [];
    for (const family of families) {
      const table = rawTables[family];
      const mine = all.filter(({ consumed }) => consumed.family === family);
      const encode = async (rows: typeof mine) => {
        const encoded = await store.rows(family);
        for (const { consumed, derived } of rows) expect(encoded.add({ consumed, dimensions: dimensionsOf(consumed.event, catalog), derived }, consumed.event.site, consumed.event.observedAt)).toBeUndefined();
        const json = rows.map(({ consumed, derived }) => JSON.stringify(rawRowOf(consumed, dimensionsOf(consumed.event, catalog), derived))).join('\n');
        return { encoded, json };
      };
      const { encoded, json } = await encode(mine);

      // Declared once, checked here: names and types as the migrations made them (columns with a default may be left out).
      const columns = await queryRows<{ name: string; type: string; default_kind: string }>(clickhouse.client, `SELECT name, type, default_kind FROM system.columns WHERE database = currentDatabase() AND table = '${table}'`);
      expect(rawColumns[family].map((c) => `${c.name} ${c.type}`).sort()).toEqual(columns.filter((c) => c.default_kind === '').map((c) => `${c.name} ${c.type.replace("DateTime('UTC')", 'DateTime')}`).sort());

      await clickhouse.client.command({ query: `CREATE TABLE ${table}_json AS ${table}` });
      await store.insert(family, encoded);
      await clickhouse.client.command({ query: `INSERT INTO ${table}_json FORMAT JSONEachRow\n${json}` });
      const read = (from: string) => queryRows<Record<string, unknown>>(clickhouse.client, `SELECT * FROM ${from} ORDER BY kafka_offset`);
      const [binary, reference] = [await read(table), await read(`${table}_json`)];
      expect(binary).toHaveLength(mine.length);
      expect(binary).toEqual(reference);

      // A DateTime's bytes are seconds since the epoch whatever its time zone.
      // chDB takes the bytes in the statement's text (4 characters a byte, under its 256 KiB query size): some rows, the awkward one among them.
      const few = await encode(mine.filter(({ consumed }, i) => i < 100 || consumed.event.eventId === 'fault-with-text'));
      compared.push({ family, rows: binary.length, inChdb: few.encoded.count });
      const structure = rawColumns[family].map((c) => `${c.name} ${c.type}`).join(', ');
      chdbStatements.push(
        `CREATE TABLE ${table}_json AS ${table}`,
        `INSERT INTO ${table} (${rawColumns[family].map((c) => c.name).join(', ')}) SELECT * FROM format(RowBinary, '${structure}', ${bytesLiteral(few.encoded.body)})`,
        `INSERT INTO ${table}_json FORMAT JSONEachRow\n${few.json}`,
        `SELECT * FROM ${table} ORDER BY kafka_offset`,
        `SELECT * FROM ${table}_json ORDER BY kafka_offset`,
      );
    }
    const faults = await queryRows<{ detail: string; kafka_offset: string }>(clickhouse.client, `SELECT detail, kafka_offset FROM lane_events WHERE event_id = 'fault-with-text'`);
    expect(faults[0]?.detail).toMatch(/^Camera mờ do sương mù — 摄像头起雾 x{200}$/);
    expect(BigInt(faults[0]!.kafka_offset)).toBeGreaterThan(2n ** 60n);
    expect(compared.every((c) => c.rows > 0)).toBe(true);

    const { results } = runInChdb(chdbStatements, clickhouse.settings.database);
    expect(results.flatMap((r, i) => (r.ok ? [] : [`${chdbStatements[i]!.slice(0, 120)}: ${r.error}`]))).toEqual([]);
    const answers = results.slice(-5 * families.length);
    compared.forEach(({ family, inChdb }, f) => {
      const [binary, reference] = [parseJsonEachRow(answers[5 * f + 3]!.output ?? ''), parseJsonEachRow(answers[5 * f + 4]!.output ?? '')];
      expect(binary, family).toHaveLength(inChdb);
      expect(binary, family).toEqual(reference);
    });
  });

  test('a column altered under the encoders (UInt8 to Int16): the insert of bytes for the old type fails, and the retry is encoded from the server\'s types and stored', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const store = new EventStore(clickhouse.client);
    const { consumed: container, derived } = consumedEvents().find(({ consumed }) => consumed.family === 'container')!;
    const encoded = async (sizeFt: number) => {
      const consumed = { ...container, event: { ...container.event, sizeFt } as TowerEvent };
      const rows = await store.rows('container');
      const refusal = rows.add({ consumed, dimensions: dimensionsOf(consumed.event, catalog), derived }, consumed.event.site, consumed.event.observedAt);
      return { rows, refusal };
    };
    const stale = await encoded(40);
    expect((await encoded(-20)).refusal?.detail).toMatch(/container_events\.size_ft \(UInt8\) cannot hold the value: -20/);
    await clickhouse.client.command({ query: 'ALTER TABLE container_events MODIFY COLUMN size_ft Int16' });
    await expect(store.insert('container', stale.rows)).rejects.toThrow();
    const fresh = await encoded(-20);
    expect(fresh.refusal).toBeUndefined();
    await store.insert('container', fresh.rows);
    expect(await queryRows<{ size_ft: number }>(clickhouse.client, 'SELECT size_ft FROM container_events')).toEqual([{ size_ft: -20 }]);
  });
});

