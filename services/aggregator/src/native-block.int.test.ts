/**
 * The Native encoders round-trip on the real 18.16 server and on the current engine
 * (chDB): every raw table's rows written by the aggregator's encoder read back exactly as
 * the same rows inserted as JSONEachRow (the format ClickHouse parses on every version),
 * Vietnamese and Chinese text, strings past one length byte, offsets past 2^53 and empty
 * arrays included; and the declared columns are the migrations' columns, with their types.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { JourneyTracker, createProducer, deadLetterHeaders, eventTypeSchemas, loadCatalog, loadMigrations, type ConsumedEvent, type ContainerEvent, type FamilyName, type LaneEvent, type TowerEvent, type TruckEvent } from '@tower/shared';
import { eventuallyProgressing, readTopics, sleep, test } from '@tower/shared/testing';
import { parseJsonEachRow, runInChdb } from '../../../infra/clickhouse/chdb.ts';
import { TrafficSimulation } from '../../simulator/src/domain/traffic.ts';
import { dimensionsOf, noDerived, rawColumns, rawRowOf, rawTables, type Derived } from './domain/rows.ts';
import { EventStore } from './store.ts';
import { createAggregatorTopics, eventMessages, migrate, migrationsDirectory, queryRows, startAggregator } from './test-support.ts';

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

/** A string literal holding any bytes, for `format(Native, ...)` in a statement. */
const bytesLiteral = (bytes: Buffer) => `'${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`;

describe('Native encoders (real ClickHouse 18.16 and chDB)', () => {
  test('each raw table reads back the same from Native blocks as from JSONEachRow, and its declared columns are the table\'s', { timeout: 180_000 }, async ({ clickhouse }) => {
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
        `INSERT INTO ${table} (${rawColumns[family].map((c) => c.name).join(', ')}) SELECT * FROM format(Native, '${structure}', ${bytesLiteral(few.encoded.body)})`,
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

  test('a column altered under the encoders (UInt8 to Int16): the bytes for the old type are not inserted, and the retry is encoded from the server\'s types and stored', { timeout: 120_000 }, async ({ clickhouse }) => {
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
    // Refused by the server (the block names UInt8), not misread, and said so.
    await expect(store.insert('container', stale.rows)).rejects.toThrow(/the column types of container_events changed on the server since its rows were encoded \(size_ft UInt8 → Int16\): not stored/);
    expect(await queryRows<{ size_ft: number }>(clickhouse.client, 'SELECT size_ft FROM container_events')).toEqual([]);
    const fresh = await encoded(-20);
    expect(fresh.refusal).toBeUndefined();
    await store.insert('container', fresh.rows);
    expect(await queryRows<{ size_ft: number }>(clickhouse.client, 'SELECT size_ft FROM container_events')).toEqual([{ size_ft: -20 }]);
  });

  test('a same-width ALTER while the aggregator stores (gross_kg UInt32 to Float32, size_ft UInt8 to Int8): every value is stored as sent, a value the new type cannot hold is dead-lettered saying so, nothing is lost', { timeout: 300_000 }, async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    let made = 0;
    // Every weight its own (a UInt32's bytes read as a Float32 are a tiny number); sizes of 128 and more read as Int8 are negative.
    const weighed = (): TruckEvent => ({ eventId: randomUUID(), type: 'truck.weighed', site: 'bac-luan-2', lane: 'bl2-weighbridge-ex-1', source: 'BL2-WB-01', plate: `14C-${100 + (made % 800)}.01`, plateCountry: 'VN', direction: 'export', observedAt: at + made, grossKg: 20_000 + made++ });
    const container = (sizeFt: number): ContainerEvent => ({ eventId: randomUUID(), type: 'container.gate-in', site: 'van-ninh', lane: 'vn-port-gate-ex-1', source: 'VN-TOS', containerNumber: 'CSQU3054383', sizeFt, fullness: 'full', reefer: false, observedAt: at + made++ }) as ContainerEvent;
    const round = (count: number): TowerEvent[] => Array.from({ length: count }, (_, i) => [weighed(), container([20, 40, 45][i % 3]!)]).flat();
    const sent: TowerEvent[] = [];
    const producer = createProducer(kafka);
    await producer.connect();
    const send = async (events: TowerEvent[]) => {
      await producer.send(eventMessages(topics, events));
      sent.push(...events);
    };
    const storedRows = async () => Number((await queryRows<{ n: string }>(clickhouse.client, 'SELECT (SELECT count() FROM truck_events) + (SELECT count() FROM container_events) AS n'))[0]!.n);
    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      // The encoders are made for the types of the first rows stored.
      await send(round(100));
      await eventuallyProgressing({ what: 'the first rows stored', progress: storedRows, until: (n) => (n === sent.length ? true : undefined) });

      // Rounds keep coming while the columns are altered.
      const rounds = (async () => {
        for (let i = 0; i < 30; i += 1) {
          await send(round(20));
          await sleep(50);
        }
      })();
      await sleep(300);
      await clickhouse.client.command({ query: 'ALTER TABLE truck_events MODIFY COLUMN gross_kg Float32' });
      await clickhouse.client.command({ query: 'ALTER TABLE container_events MODIFY COLUMN size_ft Int8' });
      await rounds;
      // Sizes Int8 cannot hold, sent after the ALTER: UInt8 could.
      const unfit = [container(200), container(130), container(255)];
      await send([...round(50), ...unfit]);

      const deadLettered = async () => (await admin.fetchTopicOffsets(topics.deadLetter)).reduce((sum, p) => sum + Number(p.high), 0);
      await eventuallyProgressing({ what: 'every event stored or dead-lettered', progress: async () => (await storedRows()) + (await deadLettered()), until: (n) => (n >= sent.length ? true : undefined) });

      const unfitIds = new Set(unfit.map((e) => e.eventId));
      const weights = new Map((await queryRows<{ event_id: string; gross_kg: number }>(clickhouse.client, 'SELECT event_id, gross_kg FROM truck_events')).map((r) => [r.event_id, r.gross_kg]));
      const sizes = new Map((await queryRows<{ event_id: string; size_ft: number }>(clickhouse.client, 'SELECT event_id, size_ft FROM container_events')).map((r) => [r.event_id, r.size_ft]));
      const wrong = sent.flatMap((event) => {
        if (unfitIds.has(event.eventId)) return sizes.has(event.eventId) ? [`${event.eventId}: sizeFt ${(event as ContainerEvent).sizeFt} stored as ${sizes.get(event.eventId)}`] : [];
        const [sentValue, stored] = event.type === 'truck.weighed' ? [event.grossKg, weights.get(event.eventId)] : [(event as ContainerEvent).sizeFt, sizes.get(event.eventId)];
        return stored === sentValue ? [] : [`${event.type} ${event.eventId}: ${sentValue} stored as ${stored}`];
      });
      expect(wrong.slice(0, 10), `${wrong.length} of ${sent.length} events stored wrong or not at all`).toEqual([]);
      const letters = await readTopics(kafka, [topics.deadLetter], unfit.length);
      // Each says which event and why, under the type the server holds.
      const refused = letters.map((l) => {
        const detail = String(l.message.headers?.[deadLetterHeaders.detail]);
        const found = /event (\S+) .*container_events\.size_ft \(Int8\) cannot hold the value: (\d+) is out of its range \[-128, 127\]/.exec(detail);
        return found ? `${found[1]}: ${found[2]}` : detail;
      });
      expect(refused.sort()).toEqual(unfit.map((e) => `${e.eventId}: ${e.sizeFt}`).sort());
    } finally {
      await aggregator.close();
      await producer.disconnect();
    }
  });
});
