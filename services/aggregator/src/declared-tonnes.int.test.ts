import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { describe, expect } from 'vitest';
import { createProducer, decodeTick, measuresOf, selectRows, sql, throughputTotalQuery, type ClickHouseClient, type MeasureRow, type ThroughputMeasures, type TowerEvent, type TruckEvent } from '@tower/shared';
import { eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { createAggregatorTopics, eventMessages, migrate, startAggregator, storedAgreeing, type AggregatorTopics } from './test-support.ts';

async function produce(kafka: Kafka, topics: AggregatorTopics, events: TowerEvent[]): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  await producer.send(eventMessages(topics, events));
  await producer.disconnect();
}

/** Every stored event counted by the 1-minute aggregates too (a view's part can lag its insert's raw part). */
async function stored(client: ClickHouseClient, expected: number): Promise<void> {
  await eventuallyProgressing({
    what: `${expected} events stored and aggregated`,
    progress: () => storedAgreeing(client),
    until: (rows) => (rows === expected ? true : undefined),
  });
}

/** The figures of each site over the range, read as the history API and the KPI tiles read them. */
async function bySite(client: ClickHouseClient, fromMs: number): Promise<Map<string, ThroughputMeasures>> {
  const range = { fromSeconds: Math.floor(fromMs / 60_000) * 60, toSeconds: Math.floor(Date.now() / 1000) + 120 };
  const rows = await selectRows<MeasureRow>(client, throughputTotalQuery(range, 'by-site'));
  return new Map(rows.map((row) => [String(row['site']), measuresOf(row)]));
}

/** One truck's steps at a site, a second apart from `at`. */
function journey(site: string, plate: string, direction: 'export' | 'import', at: number, steps: [TruckEvent['type'], Record<string, unknown>?][]): TruckEvent[] {
  const common = { site, plate, plateCountry: 'VN', direction, cargoClass: 'farm-produce', source: `${site}-test` } as const;
  return steps.map(([type, extra], i) => ({ ...common, eventId: randomUUID(), type, observedAt: at + i * 1000, ...extra }) as TruckEvent);
}

describe('tonnes from declared weights, through real Kafka and ClickHouse', () => {
  test('a manual site adds its declared tonnes; a weighed truck counts its weighbridge weight once; a truck with neither is counted unweighed; a crossing after a restart still knows the declaration', async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    const manual = { lane: 'km34-manual-ex-1' };
    const smart = { lane: 'bl2-smart-ex-1' };
    const declaredAtKm34 = journey('km3-4-hai-yen', '14C-201.01', 'export', at, [
      ['truck.arrived'],
      ['truck.gate-in', { ...manual, declaredGrossKg: 24_500 }],
      ['truck.border-crossed', manual],
      ['truck.gate-out', manual],
    ]);
    const weighedAndDeclared = journey('bac-luan-2', '14C-202.02', 'export', at, [
      ['truck.arrived'],
      ['truck.weighed', { lane: 'bl2-weighbridge-ex-1', grossKg: 31_200 }],
      ['truck.gate-in', { ...smart, declaredGrossKg: 30_000 }],
      ['truck.border-crossed', smart],
      ['truck.gate-out', smart],
    ]);
    const neither = journey('km3-4-hai-yen', '14C-203.03', 'export', at + 10_000, [['truck.arrived'], ['truck.gate-in', manual], ['truck.border-crossed', manual], ['truck.gate-out', manual]]);
    // Its declaration is stored before the aggregator stops; it crosses after the restart.
    const [arrives, declares, crosses, leaves] = journey('km3-4-hai-yen', '14C-204.04', 'export', at + 20_000, [
      ['truck.arrived'],
      ['truck.gate-in', { ...manual, declaredGrossKg: 18_000 }],
      ['truck.border-crossed', manual],
      ['truck.gate-out', manual],
    ]) as [TruckEvent, TruckEvent, TruckEvent, TruckEvent];
    const before = [...declaredAtKm34, ...weighedAndDeclared, ...neither, arrives, declares];
    // A device sends the crossing twice (the same event id): it is stored and counted once.
    await produce(kafka, topics, [...before, declaredAtKm34[2]!]);

    const first = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      await stored(clickhouse.client, before.length);
      const sites = await bySite(clickhouse.client, at);
      expect(sites.get('km3-4-hai-yen')).toMatchObject({ trucksCrossed: 2, tonnes: 24.5, trucksUnweighed: 1 });
      expect(sites.get('bac-luan-2')).toMatchObject({ trucksCrossed: 1, tonnes: 31.2, trucksUnweighed: 0 });
      const hourly = await selectRows<{ kg: string; unweighed: string }>(clickhouse.client, throughputHourly);
      expect(hourly).toEqual([{ kg: String(24_500 + 31_200), unweighed: '1' }]);
    } finally {
      await first.close();
    }

    // A new member loads the partitions' journeys from the stored rows (the declared weight among them).
    await produce(kafka, topics, [crosses, leaves]);
    const second = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      await stored(clickhouse.client, before.length + 2);
      const sites = await bySite(clickhouse.client, at);
      expect(sites.get('km3-4-hai-yen')).toMatchObject({ trucksCrossed: 3, tonnes: 42.5, trucksUnweighed: 1 });
      const crossings = await selectRows<{ plate: string; crossed_kg: number; crossed_weight: string }>(
        clickhouse.client,
        sql`SELECT plate, crossed_kg, crossed_weight FROM truck_events WHERE type = 'truck.border-crossed' ORDER BY plate`,
      );
      expect(crossings).toEqual([
        { plate: '14C-201.01', crossed_kg: 24_500, crossed_weight: 'declared' },
        { plate: '14C-202.02', crossed_kg: 31_200, crossed_weight: 'weighbridge' },
        { plate: '14C-203.03', crossed_kg: 0, crossed_weight: 'none' },
        { plate: '14C-204.04', crossed_kg: 18_000, crossed_weight: 'declared' },
      ]);
      // The live ticks carry the same figures as the stored aggregates.
      const ticks = await readTicks(kafka, topics.throughput, (all) => tonnesOf(all, 'km3-4-hai-yen') === 42.5);
      expect(tonnesOf(ticks, 'km3-4-hai-yen')).toBe(42.5);
    } finally {
      await second.close();
    }
  });

  test('one plate at two sites at once: each crossing counts its own declared weight, however the two sites interleave on the plate partition, before and after a restart', async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const at = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    const through = (site: string, lane: string, start: number, declaredGrossKg: number) =>
      journey(site, '粤B·70312', 'export', start, [['truck.arrived'], ['truck.queue-joined', { lane }], ['truck.plate-read', { lane }], ['truck.gate-in', { lane, declaredGrossKg }], ['truck.border-crossed', { lane }], ['truck.gate-out', { lane }]]);
    // Po Hèn's and Bắc Phong Sinh's devices send on their own: here the events of the plate
    // land in observation order, each site's steps between the other's (what the end-to-end
    // test's simulation once produced: both crossings were counted 0 kg, unweighed).
    const events = [...through('po-hen', 'ph-manual-ex-1', at, 28_175), ...through('bac-phong-sinh', 'bps-manual-ex-1', at + 500, 13_939)].sort((a, b) => a.observedAt - b.observedAt);
    const declared = events.findIndex((e) => e.type === 'truck.gate-in' && e.site === 'bac-phong-sinh');
    await produce(kafka, topics, events.slice(0, declared + 1));
    const first = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      await stored(clickhouse.client, declared + 1);
    } finally {
      await first.close();
    }
    // The crossings are decided by a new member, from the journeys it loads from the stored rows.
    await produce(kafka, topics, events.slice(declared + 1));
    const second = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    try {
      await stored(clickhouse.client, events.length);
      const sites = await bySite(clickhouse.client, at);
      expect(sites.get('po-hen')).toMatchObject({ trucksCrossed: 1, tonnes: 28.175, trucksUnweighed: 0 });
      expect(sites.get('bac-phong-sinh')).toMatchObject({ trucksCrossed: 1, tonnes: 13.939, trucksUnweighed: 0 });
      const figures = await selectRows<{ site: string; type: string; crossed_weight: string; clearance_ms: string; turnaround_ms: string }>(
        clickhouse.client,
        sql`SELECT site, type, crossed_weight, clearance_ms, turnaround_ms FROM truck_events WHERE type IN ('truck.border-crossed', 'truck.gate-out') ORDER BY site, type`,
      );
      expect(figures).toEqual([
        { site: 'bac-phong-sinh', type: 'truck.border-crossed', crossed_weight: 'declared', clearance_ms: '0', turnaround_ms: '3000' },
        { site: 'bac-phong-sinh', type: 'truck.gate-out', crossed_weight: '', clearance_ms: '3000', turnaround_ms: '0' },
        { site: 'po-hen', type: 'truck.border-crossed', crossed_weight: 'declared', clearance_ms: '0', turnaround_ms: '3000' },
        { site: 'po-hen', type: 'truck.gate-out', crossed_weight: '', clearance_ms: '3000', turnaround_ms: '0' },
      ]);
    } finally {
      await second.close();
    }
  });
});

const throughputHourly = sql`SELECT sumMerge(gross_kg) AS kg, sumMerge(trucks_unweighed) AS unweighed FROM throughput_1h`;

type Tick = ReturnType<typeof decodeTick>;

/** The site's tonnes from the newest tick of each window. */
function tonnesOf(ticks: readonly Tick[], site: string): number {
  const newest = new Map<string, Tick>();
  for (const tick of ticks) if (tick.site === site) newest.set(`${tick.lane}|${tick.direction}|${tick.laneKind}|${tick.windowStart}`, tick);
  return [...newest.values()].reduce((sum, tick) => sum + tick.tonnes, 0);
}

async function readTicks(kafka: Kafka, topic: string, until: (ticks: Tick[]) => boolean): Promise<Tick[]> {
  const ticks: Tick[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('ticks') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void ticks.push(decodeTick(message.value!)) });
  await eventuallyProgressing({ what: 'ticks with the tonnes', progress: () => ticks.length, until: () => (until(ticks) ? true : undefined) });
  await consumer.disconnect();
  return ticks;
}
