import { createHash } from 'node:crypto';
import { batchHandled, bookingView, classifyError, slotWindowKey, vietnamIso, type ConsumedMessage, type ConsumerHandler, type HandlerOutcome, type Logger, type PartitionBatch, type SlotAvailability, type SlotBooking, type SlotMessage } from '@tower/shared';
import type { SlotWindow } from '../domain/ledger.ts';
import type { QueuedDelivery, SeenWindow, StoredEndpoint, WebhookEventType, WebhookStore } from './store.ts';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/**
 * The event of a booking's change: one id per change (booking, state, time of the change),
 * whichever message carried it; the booking as the API and the live `bookings` feed show it.
 */
export function bookingEventOf(booking: SlotBooking) {
  const id = `evt_${digest(`${booking.id}|${booking.state}|${booking.updatedAt}`)}`;
  return { id, type: 'booking.state-changed' as const, occurredAt: vietnamIso(booking.updatedAt), booking: bookingView(booking) };
}

export type WindowEventType = Extract<WebhookEventType, 'window.closed' | 'window.capacity-cut'>;

/**
 * The event of a window's closure or capacity cut as one firm is told it: one id per
 * change of the window (its version) and firm, the window as the `slots` feed shows it
 * with its Vietnam-time twins, and the firm's own bookings there (never another firm's).
 */
export function windowEventOf(type: WindowEventType, window: SlotAvailability, previous: SeenWindow, firm: string, bookings: readonly SlotBooking[], at: number) {
  const id = `evt_${digest(`${type}|${slotWindowKey(window)}|${window.version}|${firm}`)}`;
  return {
    id,
    type,
    occurredAt: vietnamIso(at),
    window: { ...window, windowStartIso: vietnamIso(window.windowStart), windowEndIso: vietnamIso(window.windowEnd) },
    ...(type === 'window.capacity-cut' ? { previousCapacity: previous.capacity } : {}),
    bookings: bookings.map(bookingView),
  };
}

/** A delivery's id: one per event and endpoint, so the same change read twice from Kafka is queued once. */
export const deliveryIdOf = (endpointId: string, eventId: string) => `dl_${digest(`${endpointId}|${eventId}`)}`;

/** One event's deliveries to the endpoints given, in one order key. */
export function deliveriesOf(event: { id: string; type: WebhookEventType }, endpoints: readonly StoredEndpoint[], orderKey: string, queuedAt: number): QueuedDelivery[] {
  const body = JSON.stringify(event);
  return endpoints.map((endpoint) => ({ id: deliveryIdOf(endpoint.id, event.id), endpointId: endpoint.id, firm: endpoint.firm, orderKey, eventId: event.id, type: event.type, body, queuedAt }));
}

/**
 * Queues deliveries one by one; one refused at a full queue is counted (`refused`) and
 * logged, never dropped unsaid. The fan-out and the conditions watcher queue so (a
 * replay refused so is answered 409 instead).
 */
export function queueTo(store: WebhookStore, refused: (delivery: QueuedDelivery) => void, logger: Logger, now: () => number) {
  return async (deliveries: readonly QueuedDelivery[]): Promise<void> => {
    for (const delivery of deliveries) {
      if ((await store.enqueue(delivery, now())) !== 'refused') continue;
      refused(delivery);
      logger.warn({ endpoint: delivery.endpointId, firm: delivery.firm, event: delivery.eventId, type: delivery.type }, 'webhook delivery refused: the endpoint’s queue is full');
    }
  };
}

/** What the fan-out reads of the slot store: a window's bookings as they stand, and its capacity by the plan. */
export interface WindowBookings {
  bookingsIn(window: SlotWindow, at: number): Promise<SlotBooking[]>;
  plannedCapacity(window: SlotWindow): number;
}

/** How long after a window's end the fan-out keeps what it saw of it (it tells nothing of ended windows). */
const seenWindowKeepMs = 86_400_000;

/**
 * `tower.slots.v1` into the webhook queues. A booking change becomes a delivery to every
 * endpoint of the booking's firm that subscribes to `booking.state-changed` (paused ones
 * too: they get it once resumed), queued behind that booking's earlier ones. A window's
 * availability that closes it or cuts its capacity, compared with what the fan-out last
 * saw of it (kept in Redis; the plan's capacity and open before it saw any), becomes
 * `window.closed` / `window.capacity-cut` to each firm with a held or confirmed booking
 * there, naming that firm's bookings, queued per window. The batch is done (its offsets
 * committed) once every delivery is queued, not sent; what was seen of a window is kept
 * only after its deliveries are queued, so a batch read again queues what it missed and
 * nothing twice. Redis away is a `retry` of the batch; other errors go to the runner.
 */
export class WebhookFanOut implements ConsumerHandler<ConsumedMessage<SlotMessage>> {
  constructor(
    private readonly store: WebhookStore,
    private readonly windows: WindowBookings,
    private readonly queue: (deliveries: readonly QueuedDelivery[]) => Promise<void>,
    private readonly now: () => number,
  ) {}

  async handleBatch(batch: PartitionBatch<ConsumedMessage<SlotMessage>>): Promise<HandlerOutcome> {
    const endpoints = new Map<string, StoredEndpoint[]>();
    const subscribers = async (firm: string, type: WebhookEventType) => {
      let found = endpoints.get(firm);
      if (!found) endpoints.set(firm, (found = await this.store.endpointsOf(firm)));
      return found.filter((e) => e.events.includes(type));
    };
    const seen = new Map<string, SeenWindow>();
    try {
      for (const { value: change } of batch.events) {
        if (change.kind === 'booking') {
          const event = bookingEventOf(change.booking);
          await this.queue(deliveriesOf(event, await subscribers(change.booking.firm, event.type), change.booking.id, this.now()));
        } else {
          await this.windowChanged(change.availability, seen, subscribers);
        }
      }
    } catch (error) {
      if (!(error instanceof Error) || classifyError(error) !== 'transient') throw error;
      return { kind: 'retry', cause: error };
    }
    return batchHandled;
  }

  private async windowChanged(window: SlotAvailability, seen: Map<string, SeenWindow>, subscribers: (firm: string, type: WebhookEventType) => Promise<StoredEndpoint[]>): Promise<void> {
    const now = this.now();
    if (window.windowEnd <= now) return;
    const key = slotWindowKey(window);
    let previous = seen.get(key);
    if (!previous) seen.set(key, (previous = (await this.store.seenWindow(key)) ?? { closed: false, capacity: this.windows.plannedCapacity(window), version: 0 }));
    if (window.version <= previous.version || (window.closed === previous.closed && window.capacity === previous.capacity)) return;
    const types: WindowEventType[] = [...(window.closed && !previous.closed ? ['window.closed' as const] : []), ...(window.capacity < previous.capacity ? ['window.capacity-cut' as const] : [])];
    if (types.length > 0) {
      const byFirm = new Map<string, SlotBooking[]>();
      for (const booking of await this.windows.bookingsIn(window, now)) {
        if (booking.state === 'held' || booking.state === 'confirmed') byFirm.set(booking.firm, [...(byFirm.get(booking.firm) ?? []), booking]);
      }
      for (const type of types) {
        for (const [firm, bookings] of byFirm) {
          await this.queue(deliveriesOf(windowEventOf(type, window, previous, firm, bookings, now), await subscribers(firm, type), `window:${key}`, now));
        }
      }
    }
    const current = { closed: window.closed, capacity: window.capacity, version: window.version };
    await this.store.rememberWindow(key, current, window.windowEnd + seenWindowKeepMs);
    seen.set(key, current);
  }
}
