import { createHash } from 'node:crypto';
import { batchHandled, bookingView, classifyError, vietnamIso, type ConsumedMessage, type ConsumerHandler, type HandlerOutcome, type PartitionBatch, type SlotBooking, type SlotMessage } from '@tower/shared';
import type { QueuedDelivery, WebhookEndpoint, WebhookStore } from './store.ts';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/**
 * The event of a booking's change: one id per change (booking, state, time of the change),
 * whichever message carried it; the booking as the API and the live `bookings` feed show it.
 */
export function bookingEventOf(booking: SlotBooking) {
  const id = `evt_${digest(`${booking.id}|${booking.state}|${booking.updatedAt}`)}`;
  return { id, type: 'booking.state-changed' as const, occurredAt: vietnamIso(booking.updatedAt), booking: bookingView(booking) };
}

/** A delivery's id: one per event and endpoint, so the same change read twice from Kafka is queued once. */
export const deliveryIdOf = (endpointId: string, eventId: string) => `dl_${digest(`${endpointId}|${eventId}`)}`;

/**
 * `tower.slots.v1` into the webhook queues: each booking change becomes a delivery to
 * every endpoint of the booking's firm that subscribes to `booking.state-changed`
 * (paused ones too: they get it once resumed), queued behind that booking's earlier
 * ones. The batch is done (its offsets committed) once every delivery is queued, not
 * sent. Redis away is a `retry` of the batch; other errors go to the runner.
 */
export class WebhookFanOut implements ConsumerHandler<ConsumedMessage<SlotMessage>> {
  constructor(
    private readonly store: WebhookStore,
    private readonly now: () => number,
  ) {}

  async handleBatch(batch: PartitionBatch<ConsumedMessage<SlotMessage>>): Promise<HandlerOutcome> {
    const endpoints = new Map<string, WebhookEndpoint[]>();
    try {
      for (const { value: change } of batch.events) {
        if (change.kind !== 'booking') continue;
        const { booking } = change;
        let subscribers = endpoints.get(booking.firm);
        if (!subscribers) endpoints.set(booking.firm, (subscribers = (await this.store.endpointsOf(booking.firm)).filter((e) => e.events.includes('booking.state-changed'))));
        if (subscribers.length === 0) continue;
        const event = bookingEventOf(booking);
        const body = JSON.stringify(event);
        for (const endpoint of subscribers) {
          const delivery: QueuedDelivery = { id: deliveryIdOf(endpoint.id, event.id), endpointId: endpoint.id, firm: booking.firm, bookingId: booking.id, eventId: event.id, type: event.type, body, queuedAt: this.now() };
          await this.store.enqueue(delivery, this.now());
        }
      }
    } catch (error) {
      if (!(error instanceof Error) || classifyError(error) !== 'transient') throw error;
      return { kind: 'retry', cause: error };
    }
    return batchHandled;
  }
}
