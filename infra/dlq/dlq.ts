/**
 * Dead letters for operators: list what `dead_letters` holds (the aggregator copies the
 * dead-letter topic there) and replay dead letters to their source topic after a fix.
 * A replay sends the stored key, bytes and the source message's own headers again (plus
 * `dlq.replayed-from`), through the same partitioner as ingest, so the message lands on
 * its original partition; the consumers' event-id deduplication (the aggregator's
 * window of recent ids per partition) makes a second replay of the same message store
 * nothing. Used by `npm run dlq` (main.ts) and the poison drill.
 */
import { clickHouseDateTime, selectRows, sql, sqlJoin, type ClickHouseClient, type SqlFragment, type TowerProducer } from '@tower/shared';

export interface DeadLetterFilter {
  /** One dead letter by its id (`<dead-letter topic>:<partition>:<offset>`, as `list` prints it). */
  id?: string;
  /** Source topic. */
  topic?: string;
  reason?: string;
  /** Dead-lettered at or after (ms since the epoch). */
  since?: number;
  /** At most this many, oldest first (default 1,000). */
  limit?: number;
}

export interface StoredDeadLetter {
  id: string;
  /** The dead-letter topic it was copied from. */
  dlqTopic: string;
  at: string;
  consumer: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  reason: string;
  kind: string;
  detail: string;
  key: string;
  headers: Record<string, string>;
  value: Buffer;
}

/** A dead letter's id: its place on the dead-letter topic it was read from (a topic name has no colon). */
export const deadLetterId = (topic: string, partition: number | string, offset: number | string | bigint): string => `${topic}:${partition}:${offset}`;

/** A dead letter's id as `list` prints it: its dead-letter topic, partition and offset. */
export function parseDeadLetterId(value: string): { topic: string; partition: number; offset: bigint } {
  const match = /^([A-Za-z0-9._-]+):(\d+):(\d+)$/.exec(value);
  if (!match) throw new Error(`a dead letter's id is <dead-letter topic>:<partition>:<offset>, as list prints it (tower.deadletter.v1:0:42), not '${value}'`);
  return { topic: match[1]!, partition: Number(match[2]), offset: BigInt(match[3]!) };
}

/** `1h`, `30m`, `2d` before now, or an ISO time, as ms since the epoch. */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) return now - Number(relative[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Error(`--since takes 30m, 2h, 1d or an ISO time, not '${value}'`);
  return at;
}

/** `--limit`: a whole number of letters from 1 to 100,000. */
export function parseLimit(value: string): number {
  const limit = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) throw new Error(`--limit takes a whole number from 1 to 100000, not '${value}'`);
  return limit;
}

function whereOf(filter: DeadLetterFilter): SqlFragment {
  const conditions: SqlFragment[] = [sql`1 = 1`];
  if (filter.id !== undefined) {
    const { topic, partition, offset } = parseDeadLetterId(filter.id);
    conditions.push(sql`dlq_topic = ${topic} AND dlq_partition = ${partition} AND dlq_offset = ${offset}`);
  }
  if (filter.topic !== undefined) conditions.push(sql`source_topic = ${filter.topic}`);
  if (filter.reason !== undefined) conditions.push(sql`reason = ${filter.reason}`);
  if (filter.since !== undefined) conditions.push(sql`dead_lettered_at >= toDateTime(${clickHouseDateTime(filter.since)}, 'UTC')`);
  return sqlJoin(conditions, ' AND ');
}

/** The dead letters matching `filter`, oldest first, each once. */
export async function listDeadLetters(client: ClickHouseClient, filter: DeadLetterFilter = {}): Promise<StoredDeadLetter[]> {
  const rows = await selectRows<Record<string, string | number>>(
    client,
    sql`SELECT dlq_topic, dlq_partition, dlq_offset, toString(dead_lettered_at) AS at, consumer, source_topic, source_partition, source_offset, reason, error_kind, detail, message_key, headers_json, payload_base64
        FROM dead_letters WHERE ${whereOf(filter)}
        ORDER BY dead_lettered_at, dlq_topic, dlq_partition, dlq_offset LIMIT 1 BY dlq_topic, dlq_partition, dlq_offset LIMIT ${filter.limit ?? 1000}`,
  );
  return rows.map((row) => ({
    id: deadLetterId(String(row['dlq_topic']), row['dlq_partition']!, row['dlq_offset']!),
    dlqTopic: String(row['dlq_topic']),
    at: String(row['at']),
    consumer: String(row['consumer']),
    sourceTopic: String(row['source_topic']),
    sourcePartition: Number(row['source_partition']),
    sourceOffset: String(row['source_offset']),
    reason: String(row['reason']),
    kind: String(row['error_kind']),
    detail: String(row['detail']),
    key: String(row['message_key']),
    headers: row['headers_json'] ? (JSON.parse(String(row['headers_json'])) as Record<string, string>) : {},
    value: Buffer.from(String(row['payload_base64']), 'base64'),
  }));
}

/** Sends the matching dead letters to their source topics again (none when `dryRun`); returns them. */
export async function replayDeadLetters(client: ClickHouseClient, producer: TowerProducer, filter: DeadLetterFilter, options: { dryRun?: boolean } = {}): Promise<StoredDeadLetter[]> {
  const letters = await listDeadLetters(client, filter);
  if (options.dryRun || letters.length === 0) return letters;
  const byTopic = new Map<string, StoredDeadLetter[]>();
  for (const letter of letters) byTopic.set(letter.sourceTopic, [...(byTopic.get(letter.sourceTopic) ?? []), letter]);
  await producer.send(
    [...byTopic].map(([topic, list]) => ({
      topic,
      messages: list.map((letter) => ({ key: letter.key === '' ? null : letter.key, value: letter.value, headers: { ...letter.headers, 'dlq.replayed-from': letter.id } })),
    })),
  );
  return letters;
}
