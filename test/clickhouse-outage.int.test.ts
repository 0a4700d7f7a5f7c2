/** The aggregator rides out a ClickHouse outage mid-stream: pauses, retries, reports it, loses nothing. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createClickHouse, createProducer, loadCatalog, type TowerEvent } from '@tower/shared';
import { atLeast, eventually, eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { standaloneClickHouseSpec } from '../infra/local/servers.ts';
import { startServer, stopServer } from '../infra/local/supervisor.ts';
import { allRawEvents, countsByLane, createAggregatorTopics, eventMessages, migrate, queryRows, startAggregator, storedAndAggregated, storedCounts } from '../services/aggregator/src/test-support.ts';
import { TrafficSimulation } from '../services/simulator/src/domain/traffic.ts';

const outageMs = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ClickHouse outage under the aggregator (real servers)', () => {
  test(`ClickHouse stopped for ${outageMs / 1000} s mid-stream: the consumer retries with backoff, readiness says so, nothing is lost, lag returns to 0`, { timeout: 240_000 }, async ({ kafka, admin, logger, createTopic, infra }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clickhouse-outage-'));
    const spec = standaloneClickHouseSpec(root, 27123, infra.credentials);
    await startServer(spec);
    const settings = { url: 'http://127.0.0.1:27123', username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: uniqueName('outage'), logger };
    const bootstrap = createClickHouse({ ...settings, database: 'default' });
    await bootstrap.command({ query: `CREATE DATABASE ${settings.database}` });
    await bootstrap.close();
    await migrate(settings);
    const client = createClickHouse({ ...settings, requestTimeoutMs: 5000 });

    const topics = await createAggregatorTopics(createTopic, 3);
    const now = Date.now();
    const events: TowerEvent[] = new TrafficSimulation(loadCatalog(), { seed: 5, rate: 200, start: now - 6 * 3600_000 }).advanceTo(now).slice(0, 20_000);
    expect(events.length).toBe(20_000);
    const groupId = uniqueName('outage');
    const aggregator = await startAggregator({ kafka, admin, logger, clickhouse: { client }, topics }, { groupId });
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      // About 50 s of traffic; ClickHouse goes away once part of it is stored.
      const producing = (async () => {
        for (let i = 0; i < events.length; i += 400) {
          await producer.send(eventMessages(topics, events.slice(i, i + 400)));
          await sleep(1000);
        }
      })();
      // The waits on the stream fail when its figure stands still, not on the clock (a busy machine is slower, not
      // stuck); 60 s without progress covers a consumer group's join and the runner's longest backoff (10 s).
      await eventuallyProgressing({ what: 'part of the stream stored', progress: async () => (await storedCounts(client)).raw, until: atLeast(2001), stallMs: 60_000 });
      expect((await aggregator.app.inject({ url: '/readyz' })).statusCode).toBe(200);

      await stopServer(spec);
      const stoppedAt = Date.now();
      const notReady = await eventually(
        async () => {
          const response = await aggregator.app.inject({ url: '/readyz' });
          return response.statusCode === 503 ? response.body : undefined;
        },
        { timeoutMs: 15_000, what: 'readiness to report the outage' },
      );
      expect(notReady).toMatch(/processing has failed since .*retrying with backoff/);
      await sleep(Math.max(0, outageMs - (Date.now() - stoppedAt)));
      const failures = Number(/tower_consumer_batch_failures_total\{[^}]*\} (\d+)/.exec((await aggregator.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);
      // Exponential backoff: a handful of attempts in 30 s, not a hot loop.
      expect(failures).toBeGreaterThan(1);
      expect(failures).toBeLessThan(60);
      await startServer(spec);
      await producing;

      await eventuallyProgressing({
        what: 'every event stored after the outage',
        progress: () => storedAndAggregated(client),
        until: atLeast(events.length),
        stallMs: 60_000,
      });
      await eventually(async () => ((await aggregator.app.inject({ url: '/readyz' })).statusCode === 200 ? true : undefined), { timeoutMs: 15_000, what: 'ready again' });

      const [totals] = await queryRows<{ n: string; ids: string }>(client, `SELECT count() AS n, uniqExact(event_id) AS ids FROM ${allRawEvents}`);
      expect(totals).toEqual({ n: String(events.length), ids: String(events.length) });
      const stored = await countsByLane(client);
      expect(stored.minute).toEqual(stored.raw);
      expect(stored.hour).toEqual(stored.raw);

      // Lag back to zero: the group's committed offsets reach the end of every partition.
      await eventuallyProgressing({
        what: 'committed offsets at the end of every partition',
        progress: async () => {
          let behind = 0;
          for (const topic of Object.values(topics.events)) {
            const ends = await admin.fetchTopicOffsets(topic);
            const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
            for (const end of ends) behind += Math.abs(Number(end.high) - Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1));
          }
          return behind;
        },
        until: (behind) => (behind === 0 ? true : undefined),
        stallMs: 60_000,
      });
      const lagLines = (await aggregator.app.inject({ url: '/metrics' })).body.split('\n').filter((line) => line.startsWith('tower_consumer_lag_messages{'));
      expect(lagLines.length).toBeGreaterThan(0);
      expect(lagLines.every((line) => line.endsWith(' 0'))).toBe(true);
    } finally {
      await producer.disconnect();
      await aggregator.close();
      await client.close();
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
