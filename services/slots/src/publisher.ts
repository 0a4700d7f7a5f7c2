import { DependencyUnavailableProblem, slotWindowKey, type OutgoingMessage, type TowerProducer } from '@tower/shared';
import type { ChangePublisher } from './desk.ts';
import type { RedisSlotStore, SlotChange } from './store/slot-store.ts';

/**
 * Slot changes to `tower.slots.v1` (acks=all): a booking's state keyed by booking id
 * (one booking's changes stay in order), a window's places keyed by the window. Once
 * Kafka has them, their outbox entries are deleted. When Kafka does not answer in time
 * the caller gets a 503; the change stays in the outbox and the relay publishes it.
 */
export class KafkaChangePublisher implements ChangePublisher {
  private readonly published: string[] = [];
  private forgetting = false;

  constructor(
    private readonly producer: TowerProducer,
    private readonly topic: string,
    private readonly store: RedisSlotStore,
    private readonly sendTimeoutMs: number,
  ) {}

  async publish(changes: readonly SlotChange[]): Promise<void> {
    if (changes.length === 0) return;
    const messages: OutgoingMessage[] = [];
    for (const change of changes) {
      for (const message of change.messages) {
        const key = message.kind === 'booking' ? message.booking.id : slotWindowKey(message.availability);
        messages.push({ key, value: JSON.stringify(message) });
      }
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.producer.send([{ topic: this.topic, messages }]),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`)), this.sendTimeoutMs))),
      ]);
    } catch (error) {
      throw new DependencyUnavailableProblem('kafka', `the change is recorded but Kafka did not acknowledge it (${(error as Error).message}); it will be published when Kafka answers, and a retry returns it`, 5);
    } finally {
      clearTimeout(timer);
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
