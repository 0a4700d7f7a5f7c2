import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { clickHouseDateTime, deadLetterHeaders, selectRows, sql, type ClickHouseClient, type Logger } from '@tower/shared';

/** A row of `dead_letters` (infra/clickhouse/migrations/0001, 0007 and 0008). */
export interface DeadLetterRow {
  dead_lettered_at: string;
  consumer: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  message_key: string;
  headers_json: string;
  reason: string;
  detail: string;
  error_kind: string;
  payload_base64: string;
  dlq_topic: string;
  dlq_partition: number;
  dlq_offset: string;
}

type HeaderValue = NonNullable<KafkaMessage['headers']>[string];

const text = (value: HeaderValue): string =>
  value === undefined ? '' : Array.isArray(value) ? value.map(String).join(',') : value.toString();

const dlqPrefix = 'dlq.';

/** The row of one message of the dead-letter topic `topic`: its dlq.* headers, its own headers (as JSON, values as text), key and bytes. */
export function deadLetterRowOf(topic: string, partition: number, message: KafkaMessage): DeadLetterRow {
  const headers = message.headers ?? {};
  const header = (name: string) => text(headers[name]);
  const own = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(dlqPrefix)).map(([name, value]) => [name, text(value)]));
  const at = Number(header(deadLetterHeaders.at));
  return {
    dead_lettered_at: clickHouseDateTime(Number.isFinite(at) && at > 0 ? at : Number(message.timestamp)),
    consumer: header(deadLetterHeaders.consumer),
    source_topic: header(deadLetterHeaders.sourceTopic),
    source_partition: Number(header(deadLetterHeaders.sourcePartition)) || 0,
    source_offset: header(deadLetterHeaders.sourceOffset) || '0',
    message_key: message.key?.toString() ?? '',
    headers_json: JSON.stringify(own),
    reason: header(deadLetterHeaders.reason),
    detail: header(deadLetterHeaders.detail),
    error_kind: header(deadLetterHeaders.errorKind) || 'decode',
    payload_base64: (message.value ?? Buffer.alloc(0)).toString('base64'),
    dlq_topic: topic,
    dlq_partition: partition,
    dlq_offset: message.offset,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Copies the dead-letter topic into ClickHouse's `dead_letters`, in a consumer group of
 * its own (`<group>-dead-letters`), so SREs can query and replay dead letters
 * (`npm run dlq`). Exactly once: a partition's first batch in a group generation loads
 * the highest dead-letter offset stored for it, and what is at or below it is skipped;
 * offsets are committed after the insert. An insert that fails is retried with backoff.
 */
export class DeadLetterArchive {
  private readonly consumer: Consumer;
  /** Highest stored dead-letter offset per partition, as loaded for this generation. */
  private readonly stored = new Map<number, bigint>();

  constructor(
    kafka: Kafka,
    private readonly settings: { groupId: string; topic: string; clickhouse: ClickHouseClient; logger: Logger; sessionTimeoutMs: number },
  ) {
    this.consumer = kafka.consumer({ groupId: settings.groupId, sessionTimeout: settings.sessionTimeoutMs, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.stored.clear());
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.settings.topic], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.copy(payload) });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async copy({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    for (let delay = 250; ; delay = Math.min(delay * 2, 10_000)) {
      if (!isRunning() || isStale()) return;
      try {
        const storedUpTo = this.stored.get(batch.partition) ?? (await this.highestStored(batch.partition));
        const rows = batch.messages.filter((m) => BigInt(m.offset) > storedUpTo).map((m) => deadLetterRowOf(batch.topic, batch.partition, m));
        if (rows.length > 0) await this.settings.clickhouse.insert({ table: 'dead_letters', values: rows, format: 'JSONEachRow' });
        this.stored.set(batch.partition, BigInt(batch.lastOffset()));
        break;
      } catch (error) {
        this.stored.delete(batch.partition);
        this.settings.logger.warn({ err: error, partition: batch.partition, retryInMs: delay }, 'copying dead letters to ClickHouse failed; retrying');
        await sleep(delay);
        await heartbeat().catch(() => undefined);
      }
    }
    resolveOffset(batch.lastOffset());
    await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
    await heartbeat();
  }

  private async highestStored(partition: number): Promise<bigint> {
    const [row] = await selectRows<{ n: string; top: string }>(this.settings.clickhouse, sql`SELECT count() AS n, max(dlq_offset) AS top FROM dead_letters WHERE dlq_topic = ${this.settings.topic} AND dlq_partition = ${partition}`);
    return row && Number(row.n) > 0 ? BigInt(row.top) : -1n;
  }
}
