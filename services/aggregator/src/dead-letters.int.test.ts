import { Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import { createProducer, deadLetterHeaders, selectRows, sql, type ClickHouseClient } from '@tower/shared';
import { eventuallyProgressing, test, uniqueName } from '@tower/shared/testing';
import { DeadLetterArchive } from './dead-letters.ts';
import { migrate } from './test-support.ts';

async function rows(client: ClickHouseClient, dlqTopic?: string) {
  return selectRows<{ dlq_topic: string; dlq_offset: string; source_offset: string; reason: string; error_kind: string; headers_json: string; message_key: string; payload_base64: string }>(
    client,
    sql`SELECT dlq_topic, dlq_offset, source_offset, reason, error_kind, headers_json, message_key, payload_base64 FROM dead_letters WHERE ${dlqTopic === undefined ? sql`1 = 1` : sql`dlq_topic = ${dlqTopic}`} ORDER BY dlq_topic, dlq_offset`,
  );
}

const letter = (offset: number) => ({
  key: `plate-${offset}`,
  value: Buffer.from([0xc3, 0x01, offset]),
  headers: { 'tower-device': 'BL2-ANPR-01', [deadLetterHeaders.sourceTopic]: 'tower.trucks.v1', [deadLetterHeaders.sourcePartition]: '4', [deadLetterHeaders.sourceOffset]: String(100 + offset), [deadLetterHeaders.reason]: 'handler-permanent', [deadLetterHeaders.detail]: 'Code: 72', [deadLetterHeaders.errorKind]: 'permanent', [deadLetterHeaders.consumer]: 'tower-aggregator', [deadLetterHeaders.at]: String(Date.now()) },
});

describe('dead-letter archive', () => {
  test('copies the dead-letter topic into dead_letters once, even when a group reads it again from the start', async ({ kafka, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const topic = await createTopic({ partitions: 1 });
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send([{ topic, messages: [letter(0), letter(1), letter(2)] }]);
    const archive = (groupId: string) => new DeadLetterArchive(kafka, { groupId, topic, clickhouse: clickhouse.client, logger, metrics: new Registry(), sessionTimeoutMs: 10_000 });
    const stored = () => eventuallyProgressing({ what: 'the dead letters stored', progress: async () => (await rows(clickhouse.client)).length, until: (n) => (n >= 3 ? n : undefined) });

    const first = archive(uniqueName('dlq'));
    await first.start();
    await stored();
    await first.stop();
    // A group with no committed offset (as after a crash between the insert and the commit) reads everything again, plus one new letter.
    await producer.send([{ topic, messages: [letter(3)] }]);
    const second = archive(uniqueName('dlq'));
    await second.start();
    await eventuallyProgressing({ what: 'the new dead letter stored', progress: async () => (await rows(clickhouse.client)).length, until: (n) => (n >= 4 ? n : undefined) });
    await second.stop();
    await producer.disconnect();

    const all = await rows(clickhouse.client);
    expect(all.map((r) => [r.dlq_topic, r.dlq_offset, r.source_offset, r.reason, r.error_kind, r.message_key])).toEqual([0, 1, 2, 3].map((i) => [topic, String(i), String(100 + i), 'handler-permanent', 'permanent', `plate-${i}`]));
    expect(JSON.parse(all[0]!.headers_json)).toEqual({ 'tower-device': 'BL2-ANPR-01' });
    expect(Buffer.from(all[3]!.payload_base64, 'base64')).toEqual(Buffer.from([0xc3, 0x01, 3]));
  });

  test('keeps each dead-letter topic apart: letters at the same partition and offset of another topic are copied, under their own topic', async ({ kafka, logger, createTopic, clickhouse }) => {
    await migrate(clickhouse.settings);
    const [first, second] = [await createTopic({ partitions: 1 }), await createTopic({ partitions: 1 })];
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send([{ topic: first, messages: [letter(0), letter(1), letter(2)] }]);
    await producer.send([{ topic: second, messages: [letter(5), letter(6)] }]);
    await producer.disconnect();
    const copy = async (topic: string, count: number) => {
      const archive = new DeadLetterArchive(kafka, { groupId: uniqueName('dlq'), topic, clickhouse: clickhouse.client, logger, metrics: new Registry(), sessionTimeoutMs: 10_000 });
      await archive.start();
      try {
        await eventuallyProgressing({ what: `the dead letters of ${topic} stored`, progress: async () => (await rows(clickhouse.client, topic)).length, until: (n) => (n >= count ? n : undefined) });
      } finally {
        await archive.stop();
      }
    };
    await copy(first, 3);
    // Offsets 0 and 1 of the second topic are at or below the first topic's highest stored offset (2): they are still new.
    await copy(second, 2);
    expect((await rows(clickhouse.client)).map((r) => [r.dlq_topic, r.dlq_offset, r.message_key])).toEqual([
      ...[0, 1, 2].map((i) => [first, String(i), `plate-${i}`]),
      ...[5, 6].map((i, offset) => [second, String(offset), `plate-${i}`]),
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)));
  });
});
