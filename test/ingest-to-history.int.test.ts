/**
 * Reconciliation and the history API, end to end on real servers: simulated traffic
 * through the ingest API into Kafka, the aggregator into ClickHouse, and the
 * operators' API reading it back.
 */
import { describe, expect } from 'vitest';
import { JourneyTracker, createProducer, journeysOf, loadCatalog, stepSeconds, throughputSteps, type LaneEvent, type TowerEvent, type TruckEvent } from '@tower/shared';
import { atLeast, eventuallyProgressing, test } from '@tower/shared/testing';
import { countsByLane, createAggregatorTopics, migrate, startAggregator, storedAndAggregated } from '../services/aggregator/src/test-support.ts';
import { vietnamDayStart } from '../services/live/src/domain/kpis.ts';
import { startLive, withToken } from '../services/live/src/test-support.ts';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';
import { IngestSender } from '../services/simulator/src/sender.ts';
import { deviceKeysBySite, startIngest } from './support/ingest.ts';

const catalog = loadCatalog();
const laneOf = (event: TowerEvent) => ('lane' in event && event.lane ? event.lane : '');
const groupOf = (event: TowerEvent) => `${event.site}|${laneOf(event)}|${catalog.lane(laneOf(event))?.lane.kind ?? ''}`;

function tally<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('ingest API → Kafka → aggregator → ClickHouse → history API', () => {
  test('N events through the ingest API give N raw rows, aggregates that sum to N per site, lane and kind, and the same figures in the history API', { timeout: 180_000 }, async ({ kafka, admin, logger, createTopic, clickhouse, redis }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const now = Date.now();
    const simulation = new TrafficSimulation(catalog, { seed: 7, rate: 12, start: now - 3 * 3600_000 });
    const events = simulation.advanceTo(now);
    expect(events.length).toBeGreaterThan(1000);

    const producer = createProducer(kafka);
    await producer.connect();
    const ingest = await startIngest({ producer, logger, topics: topics.events });
    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    const { app: live } = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, now: () => now });
    try {
      const sender = new IngestSender(`http://127.0.0.1:${(ingest.server.address() as { port: number }).port}`, deviceKeysBySite, 500, logger);
      sender.enqueue(events);
      await eventuallyProgressing({ what: 'every batch accepted', progress: async () => (await sender.flush(), sender.buffered), until: (buffered) => (buffered === 0 ? true : undefined), stallMs: 60_000 });
      expect(sender.stats).toMatchObject({ sent: events.length, rejected: 0 });

      await eventuallyProgressing({ what: `${events.length} events stored and aggregated`, progress: () => storedAndAggregated(clickhouse.client), until: atLeast(events.length), stallMs: 60_000 });
      const expected = tally(events, groupOf);
      const stored = await countsByLane(clickhouse.client);
      expect(stored.raw).toEqual(expected);
      expect(stored.minute).toEqual(expected);
      expect(stored.hour).toEqual(expected);

      // The history API gives the same totals per site, whatever the step.
      const bySite = tally(events, (e) => e.site);
      const crossedBySite = tally(events.filter((e) => e.type === 'truck.border-crossed'), (e) => e.site);
      // Tonnes as the journeys count them: each crossing once, weighbridge else declared (manual sites too).
      // Every simulated truck declares its weight, but the simulation draws plates at random: two
      // trucks with one plate at one site at once share a journey there, and one crosses unweighed,
      // in the aggregator as in this model (a site's events reach Kafka in its order).
      const tracker = new JourneyTracker();
      const tonnesBySite = new Map<string, number>();
      const unweighedBySite = new Map<string, number>();
      for (const e of events) {
        if (!e.type.startsWith('truck.')) continue;
        const { crossedKg, crossedWeight } = tracker.apply(e as TruckEvent);
        tonnesBySite.set(e.site, (tonnesBySite.get(e.site) ?? 0) + crossedKg / 1000);
        if (crossedWeight === 'none') unweighedBySite.set(e.site, (unweighedBySite.get(e.site) ?? 0) + 1);
      }
      expect(tonnesBySite.get('km3-4-hai-yen')).toBeGreaterThan(0);
      for (const step of throughputSteps) {
        for (const [site, count] of bySite) {
          const response = await live.inject({ url: `/v1/throughput?site=${site}&from=${now - 3 * 3600_000}&to=${now}&step=${step}`, headers: withToken() });
          expect(response.statusCode, response.body).toBe(200);
          const series = response.json<{ from: number; to: number; buckets: { start: number; events: number; trucksCrossed: number; tonnes: number; trucksUnweighed: number }[] }>();
          expect(series.buckets.reduce((sum, b) => sum + b.events, 0), `${site} at ${step}`).toBe(count);
          expect(series.buckets.reduce((sum, b) => sum + b.trucksCrossed, 0)).toBe(crossedBySite.get(site) ?? 0);
          expect(series.buckets.reduce((sum, b) => sum + b.tonnes, 0), `${site} tonnes at ${step}`).toBeCloseTo(tonnesBySite.get(site) ?? 0, 3);
          expect(series.buckets.reduce((sum, b) => sum + b.trucksUnweighed, 0), `${site} unweighed at ${step}`).toBe(unweighedBySite.get(site) ?? 0);
          const size = stepSeconds[step] * 1000;
          expect(series.buckets.every((b, i) => b.start === series.from + i * size)).toBe(true);
          expect(series.to).toBe(series.from + series.buckets.length * size);
        }
      }

      // KPIs of now at Bắc Luân II: the last hour and the lane grid as computed from the events.
      const site = 'bac-luan-2';
      const hourEnd = (Math.floor(now / 60_000) + 1) * 60_000;
      const inLastHour = events.filter((e) => e.site === site && e.observedAt >= hourEnd - 3600_000 && e.observedAt < hourEnd);
      const kpis = (await live.inject({ url: `/v1/kpis/now?site=${site}`, headers: withToken() })).json<{
        lastHour: { events: number; trucksCrossed: number; clearanceP95Ms: number | null };
        lanes: { lane: string; status: string; lastHour: { trucksCrossed: number } }[];
        lanesTotal: number;
      }>();
      expect(kpis.lastHour.events).toBe(inLastHour.length);
      expect(kpis.lastHour.trucksCrossed).toBe(inLastHour.filter((e) => e.type === 'truck.border-crossed').length);
      expect(kpis.lanesTotal).toBe(catalog.site(site)!.lanes.length);
      const stateEvents = events.filter((e): e is LaneEvent => e.site === site && ['lane.opened', 'lane.closed', 'lane.congested', 'lane.fault', 'lane.cleared'].includes(e.type));
      const lastState = new Map<string, string>();
      for (const e of [...stateEvents].sort((a, b) => a.observedAt - b.observedAt)) lastState.set(e.lane, e.type);
      const statusOf: Record<string, string> = { 'lane.opened': 'open', 'lane.cleared': 'open', 'lane.congested': 'congested', 'lane.fault': 'fault', 'lane.closed': 'closed' };
      expect(kpis.lanes.filter((l) => l.status !== 'unknown').length).toBeGreaterThan(0);
      for (const lane of kpis.lanes) {
        expect(lane.status, lane.lane).toBe(statusOf[lastState.get(lane.lane) ?? ''] ?? 'unknown');
        expect(lane.lastHour.trucksCrossed).toBe(inLastHour.filter((e) => e.type === 'truck.border-crossed' && laneOf(e) === lane.lane).length);
      }

      // People at Bắc Luân I: its biometric gates' crossings, exits and entries apart, per
      // gate on the lane grid, in the zone's tiles too, and never counted as trucks.
      const people = events.filter((e): e is Extract<TowerEvent, { type: 'lane.person-crossed' }> => e.type === 'lane.person-crossed');
      const dayStart = vietnamDayStart(now);
      const ways = (list: typeof people) => ({ exits: list.filter((e) => e.direction === 'exit').length, entries: list.filter((e) => e.direction === 'entry').length });
      const peopleLastHour = people.filter((e) => e.observedAt >= hourEnd - 3600_000 && e.observedAt < hourEnd);
      type PeopleKpis = { people: { lastHour: { exits: number; entries: number }; today: { exits: number; entries: number } }; lastHour: { trucksCrossed: number }; lanes: { lane: string; lastHour: { people: number; trucksCrossed: number } }[] };
      const bl1 = (await live.inject({ url: '/v1/kpis/now?site=bac-luan-1', headers: withToken() })).json<PeopleKpis>();
      expect(peopleLastHour.length).toBeGreaterThan(100);
      expect(bl1.people).toEqual({ lastHour: ways(peopleLastHour), today: ways(people.filter((e) => e.observedAt >= dayStart)) });
      expect(bl1.lastHour.trucksCrossed).toBe(0);
      for (const gate of bl1.lanes) expect(gate.lastHour, gate.lane).toEqual(expect.objectContaining({ people: peopleLastHour.filter((e) => e.lane === gate.lane).length, trucksCrossed: 0 }));
      const zone = (await live.inject({ url: '/v1/kpis/now', headers: withToken() })).json<PeopleKpis>();
      expect(zone.people.lastHour).toEqual(ways(peopleLastHour));
      const allInLastHour = events.filter((e) => e.observedAt >= hourEnd - 3600_000 && e.observedAt < hourEnd);
      expect(zone.lastHour.trucksCrossed).toBe(allInLastHour.filter((e) => e.type === 'truck.border-crossed').length);
      // Bắc Luân II's own tiles count none of them.
      expect((kpis as unknown as PeopleKpis).people.lastHour).toEqual({ exits: 0, entries: 0 });

      // A truck's journey read back from the stored rows.
      const crossed = events.find((e): e is TruckEvent => e.type === 'truck.gate-out' && e.site === site)!;
      const plateEvents = events.filter((e): e is TruckEvent => e.type.startsWith('truck.') && (e as TruckEvent).plate === crossed.plate);
      const expectedJourneys = journeysOf(plateEvents).reverse();
      const journeyResponse = await live.inject({ url: `/v1/journeys/${encodeURIComponent(crossed.plate)}`, headers: withToken() });
      expect(journeyResponse.statusCode).toBe(200);
      const journeys = journeyResponse.json<{ plate: string; journeys: { site: string; clearanceMs: number | null; steps: Record<string, number>; lanes: string[] }[] }>();
      expect(journeys.plate).toBe(crossed.plate);
      expect(journeys.journeys.map((j) => [j.site, j.clearanceMs, j.steps, j.lanes])).toEqual(expectedJourneys.map((j) => [j.site, j.clearanceMs ?? null, j.steps, j.lanes]));
      expect(journeys.journeys.some((j) => j.clearanceMs !== null && j.clearanceMs > 0)).toBe(true);
    } finally {
      await live.close();
      await aggregator.close();
      await ingest.close();
      await producer.disconnect();
    }
  });

  test('bad history requests are 400s that name the field, an unknown plate is a 404', async ({ logger, clickhouse, redis, kafka }) => {
    await migrate(clickhouse.settings);
    const { app: live } = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka });
    try {
      const problem = async (url: string, status = 400) => {
        const response = await live.inject({ url, headers: withToken() });
        expect(response.statusCode, url).toBe(status);
        expect(response.headers['content-type']).toContain('application/problem+json');
        return response.json<{ detail: string; errors?: { field: string; reason: string }[] }>();
      };
      expect((await problem('/v1/throughput?site=lang-son')).errors).toEqual([{ field: '/querystring/site', reason: expect.stringContaining('bac-luan-2') }]);
      expect((await problem('/v1/throughput?site=van-ninh&lane=bl2-smart-ex-1')).errors).toEqual([{ field: '/querystring/lane', reason: 'belongs to site bac-luan-2, not van-ninh' }]);
      expect((await problem('/v1/throughput?step=2m')).errors?.[0]?.field).toBe('/querystring/step');
      expect((await problem('/v1/throughput?from=yesterday')).errors?.[0]?.field).toBe('/querystring/from');
      expect((await problem('/v1/throughput?sit=bac-luan-2')).errors).toEqual([{ field: '/querystring/sit', reason: 'is not allowed' }]);
      expect((await problem(`/v1/throughput?from=${Date.now() - 30 * 86_400_000}&step=1m`)).errors?.[0]).toMatchObject({ field: '/querystring/from', reason: expect.stringContaining('coarser step') });
      expect((await problem(`/v1/throughput?from=${Date.now()}&to=${Date.now() - 60_000}`)).errors?.[0]?.field).toBe('/querystring/from');
      // A range never leaves its schema (from and to ≥ 0): nothing before the epoch.
      expect((await problem('/v1/throughput?to=0')).errors).toEqual([{ field: '/querystring/to', reason: 'must be after 0, the start of the first 1m bucket after the epoch' }]);
      expect((await problem('/v1/throughput?from=0&step=1d')).errors?.[0]?.field).toBe('/querystring/from');
      expect((await problem('/v1/throughput?to=8640000000000&step=1d')).errors?.[0]?.field).toBe('/querystring/to');
      const first = (await live.inject({ url: '/v1/throughput?to=1800000', headers: withToken() })).json<{ from: number; buckets: unknown[] }>();
      expect([first.from, first.buckets.length]).toEqual([0, 30]);
      expect((await problem('/v1/kpis/now?site=nowhere')).errors?.[0]?.field).toBe('/querystring/site');
      expect((await problem('/v1/journeys/14C-999.99', 404)).detail).toContain('no event of plate 14C-999.99');
      expect((await problem('/v1/journeys/14C-999.99?days=365')).errors?.[0]?.field).toBe('/querystring/days');

      // An empty range is all zero buckets, not an error.
      const empty = (await live.inject({ url: '/v1/throughput?step=5m', headers: withToken() })).json<{ buckets: { events: number }[] }>();
      expect(empty.buckets).toHaveLength(72);
      expect(empty.buckets.every((b) => b.events === 0)).toBe(true);
      const openapi = (await live.inject({ url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/sites', '/v1/throughput', '/v1/kpis/now', '/v1/journeys/{plate}']));
    } finally {
      await live.close();
    }
  });
});
