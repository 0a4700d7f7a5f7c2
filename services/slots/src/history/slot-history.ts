import type { Consumer, Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { bookingRow, CommittedLag, decodeSlotMessage, MessageDecodeError, windowRow, type ClickHouseClient, type Logger } from '@tower/shared';

/**
 * `tower.slots.v1` into ClickHouse (`slot_bookings`, `slot_windows`), batch by batch:
 * offsets are committed only after the insert, so a crash re-inserts at most a batch,
 * which the tables collapse. A message that is not a slot change is counted and logged
 * with its offset, never retried forever. Its lag is reported with the other consumers'
 * (`tower_consumer_lag_messages{group}`).
 */
export class SlotHistoryWriter {
  private readonly consumer: Consumer;
  private readonly undecodable: Counter;
  private readonly lag: CommittedLag;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    private readonly clickhouse: ClickHouseClient,
    private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
    this.lag = new CommittedLag(kafka, { registry: metrics, logger, group: groupId, topics: [topic], fromBeginning: true });
    this.undecodable = new Counter({ name: 'tower_slots_history_undecodable_total', help: 'Messages on the slots topic that are not slot changes (skipped)', registers: [metrics] });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.lag.report();
    await this.consumer.run({
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const bookings: Record<string, string | number>[] = [];
        const windows: Record<string, string | number>[] = [];
        for (const message of batch.messages) {
          try {
            const change = decodeSlotMessage(message.value ?? '');
            if (change.kind === 'booking') bookings.push(bookingRow(change.booking));
            else windows.push(windowRow(change.availability));
          } catch (error) {
            if (!(error instanceof MessageDecodeError)) throw error;
            this.undecodable.inc();
            this.logger.warn({ err: error, partition: batch.partition, offset: message.offset }, 'skipped a message that is not a slot change');
          }
        }
        if (bookings.length > 0) await this.clickhouse.insert({ table: 'slot_bookings', format: 'JSONEachRow', values: bookings });
        if (windows.length > 0) await this.clickhouse.insert({ table: 'slot_windows', format: 'JSONEachRow', values: windows });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.lag.stop();
  }
}
