import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import { batchHandled, clickHouseDateTime, ConsumerRunner, deadLetterHeaders, selectRows, sql, type ClickHouseClient, type ConsumerHandler, type HandlerOutcome, type Logger, type PartitionBatch } from '@tower/shared';

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

/** One message of the dead-letter topic on its way to `dead_letters`. */
interface ArchivedLetter {
  offset: bigint;
  row: DeadLetterRow;
}

/**
 * Copies the dead-letter topic into ClickHouse's `dead_letters`, in a consumer group of
 * its own (`<group>-dead-letters`, its lag and readiness like every consumer's), so SREs
 * can query and replay dead letters (`npm run dlq`). Exactly once: a partition's first
 * batch in a group generation loads the highest dead-letter offset stored for it, and
 * what is at or below it is skipped; offsets are committed after the insert. Every
 * message of the topic has a row, and a dead letter has nowhere further to go: an insert
 * that fails is retried with backoff however long it takes (readiness says so).
 */
export class DeadLetterArchive implements ConsumerHandler<ArchivedLetter> {
  private readonly runner: ConsumerRunner<ArchivedLetter>;
  /** Highest stored dead-letter offset per partition, as loaded for this generation. */
  private readonly stored = new Map<number, bigint>();

  constructor(
    kafka: Kafka,
    private readonly settings: { groupId: string; topic: string; clickhouse: ClickHouseClient; logger: Logger; metrics: Registry; sessionTimeoutMs: number },
  ) {
    this.runner = new ConsumerRunner(
      {
        kafka,
        mode: { kind: 'group', groupId: settings.groupId },
        topics: [settings.topic],
        decoder: (message, topic, partition) => ({ ok: true, value: { offset: BigInt(message.offset), row: deadLetterRowOf(topic, partition, message) } }),
        logger: settings.logger.child({ component: 'dead-letter-archive' }),
        metrics: settings.metrics,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        maxWaitTimeMs: 500,
      },
      this,
    );
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  checkReady(): void {
    this.runner.checkReady();
  }

  onAssignment(): void {
    this.stored.clear();
  }

  async handleBatch(batch: PartitionBatch<ArchivedLetter>): Promise<HandlerOutcome> {
    try {
      const storedUpTo = this.stored.get(batch.partition) ?? (await this.highestStored(batch.partition));
      const rows = batch.events.filter((letter) => letter.offset > storedUpTo).map((letter) => letter.row);
      if (rows.length > 0) await this.settings.clickhouse.insert({ table: 'dead_letters', values: rows, format: 'JSONEachRow' });
      this.stored.set(batch.partition, batch.lastOffset);
      return batchHandled;
    } catch (error) {
      this.stored.delete(batch.partition);
      return { kind: 'retry', cause: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private async highestStored(partition: number): Promise<bigint> {
    const [row] = await selectRows<{ n: string; top: string }>(this.settings.clickhouse, sql`SELECT count() AS n, max(dlq_offset) AS top FROM dead_letters WHERE dlq_topic = ${this.settings.topic} AND dlq_partition = ${partition}`);
    return row && Number(row.n) > 0 ? BigInt(row.top) : -1n;
  }
}
