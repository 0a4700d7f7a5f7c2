/**
 * Drill 2: ClickHouse killed (SIGKILL) while the aggregator's inserts are in flight,
 * several times, under a steady stream. ClickHouse 18.16 writes an insert's raw part
 * and then each materialized view's part, each committed on its own: a kill between
 * them leaves raw rows that the 1-minute and 1-hour aggregates do not count. The
 * verdict reconciles everything afterwards: each event's raw row once (by event id),
 * the aggregates of every site, lane and lane kind equal to the raw rows, person
 * crossings equal to their rows, and the group's lag 0.
 */
import { createClickHouse, createKafka, createProducer, createTopicsReady, kafkaLoginOf, loadCatalog, type ClickHouseClient, type TowerEvent } from '@tower/shared';
// Not @tower/shared/testing's index: it loads vitest's fixtures, and `npm run drill` runs outside vitest.
import { sleep, uniqueName } from '../../shared/src/testing/eventually.ts';
import { atLeast, eventuallyProgressing } from '../../shared/src/testing/progress.ts';
import { standaloneClickHouseSpec } from '../../infra/local/servers.ts';
import { killServer, startServer, stopServer } from '../../infra/local/supervisor.ts';
import { allRawEvents, countsByLane, eventMessages, migrate, queryRows, startAggregator, storedCounts, type AggregatorTopics } from '../../services/aggregator/src/test-support.ts';
import { TrafficSimulation } from '../../services/simulator/src/domain/traffic.ts';
import { cleanupSteps, committedLag, type Drill, type DrillContext, type DrillVerdict } from './drill.ts';

/** K2's ports (test/drills: 27400–27419): HTTP, and native on the next port. */
const httpPort = 27400;
const kills = 5;
/** The stream: a batch every 100 ms, bounded in count and in time. */
const batchSize = 200;
const maxEvents = 120_000;
const maxStreamMs = 150_000;

/** Lanes (`site|lane|laneKind`) whose count in `aggregate` differs from the raw rows'. */
function disagreeing(raw: Map<string, number>, aggregate: Map<string, number>): string[] {
  const keys = new Set([...raw.keys(), ...aggregate.keys()]);
  return [...keys].filter((key) => (raw.get(key) ?? 0) !== (aggregate.get(key) ?? 0)).map((key) => `${key}: raw ${raw.get(key) ?? 0}, aggregate ${aggregate.get(key) ?? 0}`);
}

/** Waits until an INSERT is running on the server (the aggregator's), so the kill lands mid-insert; false if none came. */
async function insertInFlight(client: ClickHouseClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const running = await queryRows<{ n: string }>(client, "SELECT count() AS n FROM system.processes WHERE query LIKE 'INSERT INTO%'").catch(() => [{ n: '0' }]);
    if (Number(running[0]?.n) > 0) return true;
    await sleep(20);
  }
  return false;
}

export const clickhouseKill: Drill = {
  name: 'clickhouse-kill',
  summary: `ClickHouse SIGKILLed ${kills}× mid-insert under the aggregator: every event stored once, 1-minute and 1-hour aggregates equal to the raw rows, lag 0`,
  async run({ infra, logger, progress, workDir }: DrillContext): Promise<DrillVerdict> {
    const findings: string[] = [];
    const spec = standaloneClickHouseSpec(workDir, httpPort, infra.credentials);
    await startServer(spec);
    const cleanup = cleanupSteps(logger);
    cleanup.push(() => stopServer(spec));
    try {
      const settings = { url: `http://127.0.0.1:${httpPort}`, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: uniqueName('drill_kill'), logger };
      const bootstrap = createClickHouse({ ...settings, database: 'default' });
      await bootstrap.command({ query: `CREATE DATABASE ${settings.database}` }).finally(() => bootstrap.close());
      await migrate(settings);
      const client = createClickHouse({ ...settings, requestTimeoutMs: 10_000 });
      cleanup.push(() => client.close());
      const watcher = createClickHouse({ ...settings, requestTimeoutMs: 2_000 });
      cleanup.push(() => watcher.close());

      const kafka = createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('drill'), logger, login: kafkaLoginOf(infra) });
      const admin = kafka.admin();
      await admin.connect();
      cleanup.push(() => admin.disconnect());
      const names = Array.from({ length: 6 }, () => uniqueName('drill'));
      const topics: AggregatorTopics = { events: { truck: names[0]!, container: names[1]!, lane: names[2]! }, deadLetter: names[3]!, throughput: names[4]!, journeys: names[5]! };
      cleanup.push(() => admin.deleteTopics({ topics: names }));
      await createTopicsReady(admin, names.map((topic, i) => ({ topic, numPartitions: i < 3 ? 3 : 1, replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR) })));
      const groupId = uniqueName('drill-kill');
      const aggregator = await startAggregator({ kafka, admin, logger, clickhouse: { client }, topics }, { groupId });
      cleanup.push(() => aggregator.close());
      const producer = createProducer(kafka);
      await producer.connect();
      cleanup.push(() => producer.disconnect());

      const now = Date.now();
      const events: TowerEvent[] = new TrafficSimulation(loadCatalog(), { seed: 17, rate: 200, start: now - 3 * 3600_000 }).advanceTo(now).slice(0, maxEvents);
      let sent = 0;
      let streaming = true;
      let killsMidInsert = 0;
      let unavailableMs = 0;
      // The stream runs until the kills are done (or its bounds), so every kill finds inserts to break.
      // A failed send ends it and is a finding; the producer is disconnected only after it ended.
      let streamError: Error | undefined;
      const stream = (async () => {
        const started = Date.now();
        while (streaming && sent < events.length && Date.now() - started < maxStreamMs) {
          await producer.send(eventMessages(topics, events.slice(sent, sent + batchSize)));
          sent = Math.min(events.length, sent + batchSize);
          await sleep(100);
        }
      })().catch((error: Error) => void (streamError = error));
      cleanup.push(async () => {
        streaming = false;
        await stream;
      });
      for (let kill = 1; kill <= kills; kill += 1) {
        // Progress between kills: more rows stored since the last restart.
        const before = (await storedCounts(client).catch(() => ({ raw: 0 }))).raw;
        await eventuallyProgressing({ what: `rows stored before kill ${kill}`, progress: async () => (await storedCounts(watcher)).raw, until: atLeast(before + 2 * batchSize), stallMs: 60_000 });
        const midInsert = await insertInFlight(watcher, 20_000);
        const killedAt = Date.now();
        await killServer(spec);
        if (midInsert) killsMidInsert += 1;
        await startServer(spec);
        unavailableMs += Date.now() - killedAt;
        progress(`kill ${kill}/${kills}${midInsert ? ' with an insert in flight' : ''}; ClickHouse back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s, ${sent} events sent`);
      }
      streaming = false;
      await stream;
      if (streamError) findings.push(`the stream stopped after ${sent} events: ${streamError.message}`);
      progress(`stream done: ${sent} events sent; waiting for the aggregator to store them`);

      // Every event's raw row, then the aggregates: waits while the figures move.
      await eventuallyProgressing({ what: 'every event stored after the kills', progress: async () => (await storedCounts(client)).raw, until: atLeast(sent), stallMs: 60_000 });
      await eventuallyProgressing({
        what: 'the aggregates to settle',
        progress: async () => (await storedCounts(client)).aggregated,
        until: async (aggregated) => (aggregated >= sent ? aggregated : undefined),
        stallMs: 20_000,
      }).catch((error: Error) => findings.push(error.message));

      const [totals] = await queryRows<{ rows: string; ids: string }>(client, `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${allRawEvents}`);
      const rows = Number(totals?.rows ?? 0);
      const ids = Number(totals?.ids ?? 0);
      const sentIds = new Set(events.slice(0, sent).map((e) => e.eventId));
      const stored = await countsByLane(client);
      const minuteOff = disagreeing(stored.raw, stored.minute);
      const hourOff = disagreeing(stored.raw, stored.hour);
      const [people] = await queryRows<{ raw: string; counted: string }>(
        client,
        "SELECT (SELECT count() FROM lane_events WHERE type = 'lane.person-crossed') AS raw, (SELECT sumMerge(people) FROM people_1m) AS counted",
      );
      // Each lane's newest event of each type per day (migration 0009), as the raw rows say.
      const newest = async (query: string) => new Map((await queryRows<{ k: string; m: string }>(client, query)).map((r) => [r.k, r.m]));
      const newestRaw = await newest("SELECT concat(toString(toDate(observed_at)), ' ', site, ' ', lane, ' ', type) AS k, toString(max(observed_ms)) AS m FROM lane_events WHERE lane != '' GROUP BY k");
      const newestKept = await newest("SELECT concat(toString(day), ' ', site, ' ', lane, ' ', type) AS k, toString(maxMerge(last_ms)) AS m FROM lane_last_1d GROUP BY k");
      const laneLastOff = [...new Set([...newestRaw.keys(), ...newestKept.keys()])].filter((k) => newestRaw.get(k) !== newestKept.get(k)).map((k) => `${k}: newest ${newestRaw.get(k) ?? 'none'} in the raw rows, ${newestKept.get(k) ?? 'none'} in lane_last_1d`);
      const { aggregated } = await storedCounts(client);
      const [hour] = await queryRows<{ n: string }>(client, 'SELECT sumMerge(events) AS n FROM throughput_1h');

      // Lag 0: the group's committed offsets at the end of every partition.
      const lag = await eventuallyProgressing({
        what: 'committed offsets at the end of every partition',
        progress: async () => committedLag(admin, groupId, Object.values(topics.events)),
        until: (behind) => (behind === 0 ? 0 : undefined),
        stallMs: 30_000,
      }).catch(async (error: Error) => {
        findings.push(error.message);
        return committedLag(admin, groupId, Object.values(topics.events));
      });
      const metrics = (await aggregator.app.inject({ url: '/metrics' })).body;
      const repaired = [...metrics.matchAll(/^tower_aggregator_rebuilt_windows_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);

      const lost = sent - ids;
      if (ids !== sentIds.size) findings.push(`${sentIds.size - ids} events sent but not stored`);
      if (rows !== ids) findings.push(`${rows - ids} events stored twice`);
      for (const line of minuteOff.slice(0, 5)) findings.push(`1-minute aggregates disagree with the raw rows: ${line}`);
      for (const line of hourOff.slice(0, 5)) findings.push(`1-hour aggregates disagree with the raw rows: ${line}`);
      if (people?.raw !== people?.counted) findings.push(`person crossings: ${people?.raw} rows, ${people?.counted} in people_1m`);
      for (const line of laneLastOff.slice(0, 5)) findings.push(`lane states disagree with the raw rows: ${line}`);
      if (lag !== 0) findings.push(`lag ${lag} at the end`);
      if (killsMidInsert === 0) findings.push('no kill found an insert in flight');
      const passed = findings.length === 0;
      return {
        drill: 'clickhouse-kill',
        passed,
        figures: {
          kills,
          'kills with an insert in flight': killsMidInsert,
          'events sent': sent,
          'raw rows stored': rows,
          'events stored (distinct ids)': ids,
          'events lost': lost,
          'events stored twice': rows - ids,
          'events in 1-minute aggregates': aggregated,
          'events in 1-hour aggregates': Number(hour?.n ?? 0),
          'lanes where 1-minute ≠ raw': minuteOff.length,
          'lanes where 1-hour ≠ raw': hourOff.length,
          'aggregate windows rebuilt': repaired,
          'lag at the end (messages)': lag,
          'seconds ClickHouse unavailable': Number((unavailableMs / 1000).toFixed(1)),
        },
        findings,
      };
    } finally {
      await cleanup.run();
    }
  },
};
