import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { batchHandled, bookingRow, ConsumerRunner, decodeSlotMessage, jsonDecoder, windowRow, type ClickHouseClient, type ConsumedMessage, type ConsumerHandler, type HandlerOutcome, type Logger, type PartitionBatch, type SlotMessage, type TowerProducer } from '@tower/shared';

/**
 * `tower.slots.v1` into ClickHouse (`slot_bookings`, `slot_windows`), batch by batch, in
 * a consumer group: offsets are committed only after the insert, so a crash re-inserts
 * at most a batch, which the tables collapse. A message that is not a slot change is
 * dead-lettered (reason `malformed-message`), never retried forever; a row ClickHouse
 * refuses is found by the runner's split and dead-lettered too. Its lag is reported with
 * the other consumers' (`tower_consumer_lag_messages{group}`).
 */
export class SlotHistoryWriter implements ConsumerHandler<ConsumedMessage<SlotMessage>> {
  private readonly runner: ConsumerRunner<ConsumedMessage<SlotMessage>>;

  constructor(
    kafka: Kafka,
    settings: { topic: string; groupId: string; deadLetters: { topic: string; producer: TowerProducer }; metrics: Registry },
    private readonly clickhouse: ClickHouseClient,
    logger: Logger,
  ) {
    this.runner = new ConsumerRunner(
      { kafka, mode: { kind: 'group', groupId: settings.groupId, deadLetters: settings.deadLetters }, topics: [settings.topic], decoder: jsonDecoder(decodeSlotMessage), logger, metrics: settings.metrics, maxWaitTimeMs: 500 },
      this,
    );
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  /** A ClickHouse error is let through: the runner classifies it (a refused row is poison, a server away is retried). */
  async handleBatch(batch: PartitionBatch<ConsumedMessage<SlotMessage>>): Promise<HandlerOutcome> {
    const bookings: Record<string, string | number>[] = [];
    const windows: Record<string, string | number>[] = [];
    for (const { value: change } of batch.events) {
      if (change.kind === 'booking') bookings.push(bookingRow(change.booking));
      else windows.push(windowRow(change.availability));
    }
    if (bookings.length > 0) await this.clickhouse.insert({ table: 'slot_bookings', format: 'JSONEachRow', values: bookings });
    if (windows.length > 0) await this.clickhouse.insert({ table: 'slot_windows', format: 'JSONEachRow', values: windows });
    return batchHandled;
  }
}
