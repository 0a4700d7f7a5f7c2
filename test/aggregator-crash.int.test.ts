/** Crash safety of the aggregator as a real process, fed by the simulator's traffic. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { JourneyTracker, createProducer, loadCatalog, type LaneEvent, type TowerEvent, type TruckEvent } from '@tower/shared';
import { atLeast, eventuallyProgressing, sleep, test, uniqueName } from '@tower/shared/testing';
import { LaneOpenTracker } from '../services/aggregator/src/domain/lanes.ts';
import { allRawEvents, countsByLane, createAggregatorTopics, eventMessages, migrate, queryRows, storedAndAggregated, storedCounts, type AggregatorTopics } from '../services/aggregator/src/test-support.ts';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';
import { topicEnv } from './support/service-processes.ts';

const root = path.resolve(import.meta.dirname, '..');
const totalEvents = 50_000;
const kills = 10;

function simulated(count: number): TowerEvent[] {
  const end = Date.now() - 3600_000;
  const start = end - 5 * 24 * 3600_000;
  const simulation = new TrafficSimulation(loadCatalog(), { seed: 11, rate: 300, start });
  const events: TowerEvent[] = [];
  for (let at = start; events.length < count && at < end; at += 600_000) events.push(...simulation.advanceTo(at));
  return events.slice(0, count);
}

function startAggregatorProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services/aggregator/src/main.ts')], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}


describe('aggregator crash safety (real Kafka and ClickHouse, real processes)', () => {
  test(`SIGKILLed ${kills} times during a ${totalEvents}-event stream, it still stores each event once and aggregates exactly`, { timeout: 300_000 }, async ({ kafka, infra, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics: AggregatorTopics = await createAggregatorTopics(createTopic, 3);
    const events = simulated(totalEvents);
    // Devices re-send: 1% of the events come again later in the stream.
    const resent = events.filter((_, i) => i % 100 === 7);
    const stream = [...events.slice(0, totalEvents / 2), ...resent.slice(0, resent.length / 2), ...events.slice(totalEvents / 2), ...resent.slice(resent.length / 2)];

    const env = {
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      CLICKHOUSE_URL: infra.CLICKHOUSE_URL,
      CLICKHOUSE_USER: infra.CLICKHOUSE_USER,
      CLICKHOUSE_PASSWORD: infra.CLICKHOUSE_PASSWORD,
      KAFKA_SASL_MECHANISM: infra.KAFKA_SASL_MECHANISM,
      KAFKA_SASL_USERNAME: infra.KAFKA_SASL_USERNAME,
      KAFKA_SASL_PASSWORD: infra.KAFKA_SASL_PASSWORD,
      CLICKHOUSE_DATABASE: clickhouse.settings.database,
      ...topicEnv(topics),
      CONSUMER_GROUP: uniqueName('crash'),
      CONSUMER_SESSION_TIMEOUT_MS: '6000',
      FETCH_MAX_BYTES_PER_PARTITION: String(256 * 1024),
      PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
      LOG_LEVEL: 'warn',
      CATALOG_FILE: path.join(root, 'seeds/site-catalog.json'),
    };

    const producing = (async () => {
      const producer = createProducer(kafka);
      await producer.connect();
      for (let i = 0; i < stream.length; i += 500) {
        await producer.send(eventMessages(topics, stream.slice(i, i + 500)));
        await sleep(1200); // a stream of about two minutes, so that every kill lands inside it
      }
      await producer.disconnect();
    })();

    const storedCount = async () => (await storedCounts(clickhouse.client)).raw;
    // Each kill waits until this process has stored something, so every kill lands mid-write.
    const countsAtKills: number[] = [];
    for (let killed = 0; killed < kills; killed += 1) {
      const before = await storedCount();
      const child = startAggregatorProcess(env);
      await eventuallyProgressing({ what: `progress before kill ${killed + 1}`, progress: storedCount, until: atLeast(before + 1), stallMs: 45_000 });
      await sleep(Math.random() * 1000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      countsAtKills.push(await storedCount());
    }
    await producing;
    const survivor = startAggregatorProcess(env);
    try {
      await eventuallyProgressing({ what: `${totalEvents} rows after ${kills} kills`, progress: () => storedAndAggregated(clickhouse.client), until: atLeast(totalEvents), stallMs: 60_000 });
      await sleep(1500); // anything extra (a double count) would land now
      // Every kill happened before the stream was fully stored.
      expect(countsAtKills.every((n) => n < totalEvents)).toBe(true);

      const [totals] = await queryRows<{ n: string; ids: string; coordinates: string }>(
        clickhouse.client,
        `SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(kafka_topic, kafka_partition, kafka_offset) AS coordinates FROM ${allRawEvents}`,
      );
      expect(totals).toEqual({ n: String(totalEvents), ids: String(totalEvents), coordinates: String(totalEvents) });

      const { raw, minute, hour } = await countsByLane(clickhouse.client);
      expect(minute).toEqual(raw);
      expect(hour).toEqual(raw);

      // Derived figures equal a crash-free computation over the same events in partition order.
      const journeys = new Map<string, JourneyTracker>();
      const lanes = new LaneOpenTracker();
      const expectedClearance = new Map<string, number>();
      const expectedOpen = new Map<string, number>();
      for (const event of events) {
        if (event.type.startsWith('truck.')) {
          const truck = event as TruckEvent;
          const tracker = journeys.get(truck.plate) ?? new JourneyTracker();
          journeys.set(truck.plate, tracker);
          const times = tracker.apply(truck);
          if (times.clearanceMs > 0) expectedClearance.set(event.eventId, times.clearanceMs);
        } else if (event.type.startsWith('lane.')) {
          const openMs = lanes.apply(event as LaneEvent);
          if (openMs > 0) expectedOpen.set(event.eventId, openMs);
        }
      }
      const storedClearance = new Map((await queryRows<{ event_id: string; clearance_ms: string }>(clickhouse.client, 'SELECT event_id, clearance_ms FROM truck_events WHERE clearance_ms > 0')).map((r) => [r.event_id, Number(r.clearance_ms)]));
      const storedOpen = new Map((await queryRows<{ event_id: string; open_ms: string }>(clickhouse.client, 'SELECT event_id, open_ms FROM lane_events WHERE open_ms > 0')).map((r) => [r.event_id, Number(r.open_ms)]));
      expect(expectedClearance.size).toBeGreaterThan(100);
      expect(storedClearance).toEqual(expectedClearance);
      expect(storedOpen).toEqual(expectedOpen);
    } finally {
      survivor.kill('SIGTERM');
      await new Promise((resolve) => survivor.once('exit', resolve));
    }
  });
});
