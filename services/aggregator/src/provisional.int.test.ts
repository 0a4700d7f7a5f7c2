import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { createProducer, decodeTick, measuresOf, selectRows, windowsQuery, type ThroughputMeasures, type ThroughputTick, type TowerEvent } from '@tower/shared';
import { eventually, eventuallyProgressing, sampleEvents, test, uniqueName } from '@tower/shared/testing';
import { createAggregatorTopics, eventMessages, migrate, startAggregator, storedAgreeing } from './test-support.ts';

const keyOf = (t: Pick<ThroughputTick, 'site' | 'lane' | 'direction' | 'laneKind' | 'windowStart'>) => `${t.site}|${t.lane}|${t.direction}|${t.laneKind}|${t.windowStart}`;
const measureFields = (measures: ThroughputMeasures): ThroughputMeasures => {
  const { events, trucksCrossed, containersMoved, teuMoved, tonnes, trucksUnweighed, customsHolds, queueMax, queueMean, laneOpenMinutes, clearanceP50Ms, clearanceP95Ms, turnaroundP50Ms, turnaroundP95Ms } = measures;
  return { events, trucksCrossed, containersMoved, teuMoved, tonnes, trucksUnweighed, customsHolds, queueMax, queueMean, laneOpenMinutes, clearanceP50Ms, clearanceP95Ms, turnaroundP50Ms, turnaroundP95Ms };
};

describe('provisional live figures against real Kafka and ClickHouse', () => {
  test('each batch is on the tick topic as provisional before its confirmed tick; after every round the confirmed figures equal the stored aggregates, and every provisional window is replaced by a confirmed one', async ({ kafka, admin, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topics = await createAggregatorTopics(createTopic);
    const ticks: ThroughputTick[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('ticks') });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.throughput, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void ticks.push(decodeTick(message.value!)) });
    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse, topics });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      let sent = 0;
      for (let round = 0; round < 4; round += 1) {
        // Live windows, each round with a different mix (one more copy of the sample per round).
        const events: TowerEvent[] = Array.from({ length: round + 1 }, () => sampleEvents(Date.now()).map((e) => ({ ...e, eventId: randomUUID() }))).flat();
        await producer.send(eventMessages(topics, events));
        sent += events.length;
        await eventuallyProgressing({ what: `round ${round} stored`, progress: () => storedAgreeing(clickhouse.client), until: (rows) => (rows === sent ? true : undefined) });
        // The newest confirmed tick of every window seen equals what ClickHouse stores for it.
        await eventually(
          async () => {
            const newest = new Map<string, ThroughputTick>();
            for (const tick of ticks) if (!tick.provisional) newest.set(keyOf(tick), tick);
            const stored = await selectRows<Record<string, string | number | null | (string | number)[]>>(
              clickhouse.client,
              windowsQuery([...newest.values()].map((t) => ({ site: t.site, lane: t.lane, direction: t.direction, laneKind: t.laneKind, windowStart: t.windowStart / 1000 }))),
            );
            const storedEvents = stored.reduce((sum, row) => sum + Number(row['events']), 0);
            if (storedEvents !== sent || stored.length !== newest.size) return undefined;
            for (const row of stored) {
              const tick = newest.get(`${String(row['site'])}|${String(row['lane'])}|${String(row['direction'])}|${String(row['lane_kind'])}|${Number(row['window_start_s']) * 1000}`);
              if (!tick) return undefined;
              expect(measureFields(tick)).toEqual(measuresOf(row));
            }
            return true;
          },
          { what: `round ${round}: the confirmed ticks agreeing with the stored aggregates`, timeoutMs: 60_000 },
        );
      }
      const provisional = ticks.filter((t) => t.provisional);
      expect(provisional.length).toBeGreaterThan(0);
      // Every provisional figure is followed (same key, same partition: in order) by a confirmed one that includes its events.
      for (const [i, tick] of ticks.entries()) {
        if (!tick.provisional) continue;
        expect(ticks.slice(i + 1).some((later) => !later.provisional && keyOf(later) === keyOf(tick) && later.newestIngestedAt >= tick.newestIngestedAt)).toBe(true);
      }
      // A provisional tick was ahead of its confirmed one: published first, for the same newest event.
      const confirmedAt = new Map<string, number>();
      for (const tick of ticks) if (!tick.provisional) confirmedAt.set(`${keyOf(tick)}@${tick.newestIngestedAt}`, Math.min(confirmedAt.get(`${keyOf(tick)}@${tick.newestIngestedAt}`) ?? Infinity, tick.publishedAt));
      expect(provisional.every((t) => t.publishedAt <= (confirmedAt.get(`${keyOf(t)}@${t.newestIngestedAt}`) ?? Infinity))).toBe(true);
    } finally {
      await producer.disconnect();
      await consumer.disconnect();
      await aggregator.close();
    }
  });
});
