/**
 * Drill `poison` (issue 17, drill 4): a message that decodes but that ClickHouse refuses
 * (a container event with a negative `sizeFt`: valid Avro, as a producer that skipped
 * ingest's validation would write it; `size_ft` is UInt8 and 18.16 answers CANNOT_PARSE_NUMBER),
 * between good events on one partition. The aggregator must classify the refusal as
 * permanent, split the batch to find it, store every good event (the partition does not
 * stall) and dead-letter the poison with ClickHouse's reason; its dead-letter copier puts
 * it in `dead_letters`. After the "fix" (the column widened to Int16), replaying the dead
 * letter twice (`replayDeadLetters`, what `npm run dlq -- replay <id>` does) stores it once.
 */
import { randomUUID } from 'node:crypto';
import { createClickHouse, createKafka, createProducer, createTopicsReady, identifier, kafkaLoginOf, selectRows, sql, type ClickHouseClient, type ClickHouseSettings, type ContainerEvent, type TowerEvent } from '@tower/shared';
// Not @tower/shared/testing: its fixtures need vitest, and `npm run drill` runs without it.
import { uniqueName } from '@tower/shared/testing/eventually';
import { eventuallyProgressing } from '@tower/shared/testing/progress';
import { createAggregatorTopics, eventMessages, migrate, startAggregator } from '../../services/aggregator/src/test-support.ts';
import { listDeadLetters, replayDeadLetters } from '../../infra/dlq/dlq.ts';
import type { Drill, DrillContext, DrillVerdict } from './drill.ts';

const goodBefore = 3000;
const goodAfter = 3000;

function containerEvent(at: number, sizeFt: number): ContainerEvent {
  return { eventId: randomUUID(), type: 'container.customs-status', site: 'van-ninh', observedAt: at, source: 'VN-TOS', containerNumber: 'CSQU3054383', sizeFt, fullness: 'full', reefer: false, customsStatus: 'released' } as ContainerEvent;
}

async function count(client: ClickHouseClient, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await selectRows<{ n: string }>(client, query);
  return Number(row?.n ?? 0);
}

export const poisonDrill: Drill = {
  name: 'poison',
  summary: 'a row ClickHouse refuses between good events on one partition: good stored, poison dead-lettered with its reason, replayed once after the fix',
  async run(context: DrillContext): Promise<DrillVerdict> {
    const { infra, logger, progress } = context;
    const findings: string[] = [];
    const kafka = createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('drill-poison'), logger, login: kafkaLoginOf(infra) });
    const admin = kafka.admin();
    await admin.connect();
    const database = identifier(uniqueName('drill_poison'));
    const settings: ClickHouseSettings = { url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database, logger };
    const bootstrap = createClickHouse({ ...settings, database: 'default' });
    await bootstrap.command({ query: `CREATE DATABASE ${database}` });
    const clickhouse = createClickHouse(settings);
    const created: string[] = [];
    const topics = await createAggregatorTopics(async ({ partitions = 1 } = {}) => {
      const topic = uniqueName('drill_poison');
      await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR) }]);
      created.push(topic);
      return topic;
    }, 1);
    const producer = createProducer(kafka);
    await producer.connect();
    const groupId = uniqueName('drill-poison-aggregator');
    let aggregator: Awaited<ReturnType<typeof startAggregator>> | undefined;
    try {
      await migrate(settings);
      const now = Date.now();
      const before = Array.from({ length: goodBefore }, (_, i) => containerEvent(now - 60_000 + i, 40));
      const poison = containerEvent(now - 30_000, -20);
      const after = Array.from({ length: goodAfter }, (_, i) => containerEvent(now - 20_000 + i, 20));
      // One send, one partition: the poison sits in the middle of the batch the aggregator fetches.
      await producer.send(eventMessages(topics, [...before, poison, ...after] as TowerEvent[]));
      progress(`sent ${goodBefore} good events, the poison, ${goodAfter} good events to ${topics.events.container} (one partition)`);

      const started = Date.now();
      // Kafka's shortest session: finding the poison takes many inserts, and the membership must outlive them (heartbeats between attempts).
      aggregator = await startAggregator({ kafka, admin, logger, clickhouse: { client: clickhouse }, topics }, { groupId, sessionTimeoutMs: 6_000 });
      const storedGood = () => count(clickhouse, sql`SELECT count() AS n FROM container_events WHERE event_id != ${poison.eventId}`);
      const good = await eventuallyProgressing({ what: 'every good event stored past the poison', progress: storedGood, until: (n) => (n >= goodBefore + goodAfter ? n : undefined), stallMs: 60_000 });
      const storedWithin = (Date.now() - started) / 1000;
      progress(`${good} good events stored ${storedWithin.toFixed(1)} s after the aggregator started`);

      const letters = await eventuallyProgressing({
        what: 'the poison in dead_letters',
        progress: async () => (await listDeadLetters(clickhouse)).length,
        until: async (n) => (n >= 1 ? listDeadLetters(clickhouse) : undefined),
        stallMs: 60_000,
      });
      const onTopic = Number((await admin.fetchTopicOffsets(topics.deadLetter)).reduce((sum, p) => sum + Number(p.high), 0));
      const letter = letters[0]!;
      progress(`dead letter ${letter.id}: ${letter.reason} (${letter.kind}) from ${letter.sourceTopic}[${letter.sourcePartition}]@${letter.sourceOffset}: ${letter.detail.slice(0, 120)}`);
      if (letters.length !== 1) findings.push(`${letters.length} dead letters, expected the poison alone`);
      if (onTopic !== 1) findings.push(`${onTopic} messages on the dead-letter topic, expected 1`);
      if (letter.sourceOffset !== String(goodBefore)) findings.push(`the dead letter is offset ${letter.sourceOffset}, the poison is ${goodBefore}`);
      if (letter.kind !== 'permanent') findings.push(`the refusal was classified ${letter.kind}, not permanent`);

      // The fix: the column takes the value now. Then the replay, twice: the second must store nothing.
      await clickhouse.command({ query: 'ALTER TABLE container_events MODIFY COLUMN size_ft Int16' });
      const poisonStored = () => count(clickhouse, sql`SELECT count() AS n FROM container_events WHERE event_id = ${poison.eventId}`);
      await replayDeadLetters(clickhouse, producer, { id: letter.id });
      await eventuallyProgressing({ what: 'the replayed poison stored', progress: poisonStored, until: (n) => (n >= 1 ? n : undefined), stallMs: 60_000 });
      await replayDeadLetters(clickhouse, producer, { id: letter.id });
      const end = Number((await admin.fetchTopicOffsets(topics.events.container))[0]!.high);
      const committed = async () => Number((await admin.fetchOffsets({ groupId, topics: [topics.events.container] }))[0]!.partitions[0]!.offset);
      await eventuallyProgressing({ what: 'the second replay consumed', progress: committed, until: (n) => (n >= end ? n : undefined), stallMs: 60_000 });
      const afterReplays = await poisonStored();
      progress(`replayed twice after the fix: the poison stored ${afterReplays} time(s)`);
      if (afterReplays !== 1) findings.push(`the replayed poison is stored ${afterReplays} times, expected once`);
      const lost = goodBefore + goodAfter - good;
      if (lost !== 0) findings.push(`${lost} good events not stored`);
      const deadLetterRows = (await listDeadLetters(clickhouse)).length;
      if (deadLetterRows !== 1) findings.push(`${deadLetterRows} dead letters after the replays, expected 1 (a replay must not fail again)`);
      return {
        drill: 'poison',
        passed: findings.length === 0,
        figures: {
          'good events sent': goodBefore + goodAfter,
          'good events stored': good,
          lost,
          'seconds to store every good event (from start, poison included)': Number(storedWithin.toFixed(1)),
          'dead letters on the topic': onTopic,
          'dead letters in ClickHouse': deadLetterRows,
          'dead letter reason': `${letter.reason} (${letter.kind})`,
          'poison stored after the fix and two replays': afterReplays,
        },
        findings,
      };
    } finally {
      await aggregator?.close();
      await producer.disconnect();
      await clickhouse.close();
      await bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await bootstrap.close();
      if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
      await admin.disconnect();
    }
  },
};
