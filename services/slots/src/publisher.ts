import { Coalescer, slotWindowKey, type OutgoingMessage, type SlotAvailability, type TowerProducer } from '@tower/shared';
import type { ChangePublisher } from './desk.ts';
import { StoreUnavailable } from './desk-errors.ts';
import type { RedisSlotStore, SlotChange } from './store/slot-store.ts';

/**
 * The messages of many changes: every booking state, in order, and each window's places
 * once, at its highest version (the places after the last of the changes: readers keep
 * the highest version anyway, so the ones in between say nothing new).
 */
export function slotMessagesOf(changes: readonly SlotChange[]): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  const windows = new Map<string, SlotAvailability>();
  for (const change of changes) {
    for (const message of change.messages) {
      if (message.kind === 'booking') {
        messages.push({ key: message.booking.id, value: JSON.stringify(message) });
        continue;
      }
      const key = slotWindowKey(message.availability);
      const known = windows.get(key);
      if (!known || known.version < message.availability.version) windows.set(key, message.availability);
    }
  }
  for (const [key, availability] of windows) messages.push({ key, value: JSON.stringify({ kind: 'availability', availability }) });
  return messages;
}

/**
 * Slot changes to `tower.slots.v1` (acks=all): a booking's state keyed by booking id
 * (one booking's changes stay in order), a window's places keyed by the window. Changes
 * that arrive while a send is in flight go out together in the next one, a window's
 * places once per send. Once Kafka has them, their outbox entries are deleted. When
 * Kafka does not answer in time the caller gets StoreUnavailable (the API's 503); the
 * change stays in the outbox and the relay publishes it. A change still queued here then
 * is dropped from the queue (the relay has it): after a stall the queue holds only
 * changes whose callers still wait.
 */
export class KafkaChangePublisher implements ChangePublisher {
  private readonly published: string[] = [];
  private forgetting = false;
  private readonly sender: Coalescer<readonly SlotChange[]>;

  constructor(
    producer: TowerProducer,
    topic: string,
    private readonly store: RedisSlotStore,
    private readonly sendTimeoutMs: number,
  ) {
    this.sender = new Coalescer((batches) => producer.send([{ topic, messages: slotMessagesOf(batches.flat()) }]), { maxInFlight: 2 });
  }

  async publish(changes: readonly SlotChange[]): Promise<void> {
    if (changes.length === 0) return;
    const deadline = AbortSignal.timeout(this.sendTimeoutMs);
    try {
      await this.sender.submit(changes, deadline);
    } catch (error) {
      const reason = deadline.aborted ? `no acknowledgement within ${this.sendTimeoutMs} ms` : (error as Error).message;
      throw new StoreUnavailable('kafka', `the change is recorded but Kafka did not acknowledge it (${reason}); it will be published when Kafka answers, and a retry returns it`, 5);
    }
    this.forget(changes.map((c) => c.entryId));
  }

  /**
   * Deletes published entries from the outbox, those of one event-loop turn in one XDEL.
   * Tidying only: an entry left behind is published again by the relay, harmlessly.
   */
  private forget(entryIds: readonly string[]): void {
    this.published.push(...entryIds);
    if (this.forgetting) return;
    this.forgetting = true;
    setImmediate(() => {
      const ids = this.published.splice(0);
      this.forgetting = false;
      void this.store.published(ids).catch(() => undefined);
    });
  }
}
