import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { batchHandled, bookingView, ConsumerRunner, decodeJourneyUpdate, decodeSlotMessage, decodeTick, jsonDecoder, type ConsumedMessage, type HandlerOutcome, type Logger, type Positioned, type Rejection } from '@tower/shared';
import { linksOf, runInSpan, SpanKind, type Tracing } from '@tower/shared/tracing';
import { decodeAlert } from './alert-log.ts';
import type { LiveHub } from './hub.ts';
import type { SlotBoard } from './slot-board.ts';

/** Where a feed's consumer metrics (lag, skipped messages) go, and its tracing; a feed without a registry reports to one nobody scrapes. */
export interface FeedOptions {
  metrics?: Registry;
  tracing?: Tracing;
}

/** A gateway's reader of one broadcast topic, whatever it carries: a consumer runner in broadcast mode (see `BroadcastMode`). */
export type BroadcastFeed = Pick<ConsumerRunner<Positioned>, 'name' | 'start' | 'stop' | 'checkReady' | 'ready'>;

/**
 * A topic read as a broadcast (throughput ticks, alert changes, journeys, slot changes):
 * each gateway instance reads all of it in a group of its own, from the newest offset
 * (history comes from ClickHouse and Redis), so instances side by side serve the same
 * stream to their own clients; `group` is the stable name its lag is reported under. A
 * fetched batch is delivered in one synchronous loop: its deltas reach each socket in
 * the same event-loop turn, and the gateway's write batcher sends them in one write. A
 * message `deliver` throws on is skipped (counted and logged by the runner): a broadcast
 * reader never stalls on one bad message.
 */
function broadcastFeed<V>(kafka: Kafka, topic: string, group: string, decode: (value: Buffer) => V, deliver: (message: ConsumedMessage<V>) => void, logger: Logger, options: FeedOptions): ConsumerRunner<ConsumedMessage<V>> {
  return new ConsumerRunner<ConsumedMessage<V>>(
    { kafka, mode: { kind: 'broadcast', name: group }, topics: [topic], decoder: jsonDecoder(decode), logger: logger.child({ feed: group }), metrics: options.metrics ?? new Registry() },
    {
      async handleBatch(batch): Promise<HandlerOutcome> {
        const undeliverable: Rejection[] = [];
        for (const message of batch.events) {
          try {
            deliver(message);
          } catch (error) {
            undeliverable.push({ offset: message.offset, reason: 'undeliverable', detail: error instanceof Error ? error.message : String(error) });
          }
        }
        return undeliverable.length > 0 ? { kind: 'dead-letter', messages: undeliverable } : batchHandled;
      },
    },
  );
}

/**
 * `tower.throughput.v1` into the hub (board and `throughput` streams). Where tracing is
 * on, a tick that carries the aggregator's `traceparent` is delivered in a short span
 * linked to it (onto the board and into the clients' write queues).
 */
export function tickFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger, options: FeedOptions = {}) {
  const { tracing } = options;
  return broadcastFeed(kafka, topic, group, decodeTick, ({ value: tick, headers }) => {
    const links = tracing && headers['traceparent'] !== undefined ? linksOf([headers]) : [];
    if (!tracing || links.length === 0) return hub.publishTick(tick, Date.now());
    const span = tracing.startSpan('deliver tick', { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.destination.name': topic, 'tower.site': tick.site, 'tower.lane': tick.lane } });
    runInSpan(span, () => hub.publishTick(tick, Date.now()));
  }, logger, options);
}

/** `tower.alerts.v1` into the hub (`alerts` streams). */
export function alertFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger, options: FeedOptions = {}) {
  return broadcastFeed(kafka, topic, group, decodeAlert, ({ value }) => hub.publish('alerts', value, Date.now()), logger, options);
}

/** `tower.journeys.v1` into the hub (`journeys` streams). */
export function journeyFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, logger: Logger, options: FeedOptions = {}) {
  return broadcastFeed(kafka, topic, group, decodeJourneyUpdate, ({ value }) => hub.publish('journeys', value, Date.now()), logger, options);
}

/**
 * `tower.slots.v1` into the hub: a window's places on `slots`, a booking's new state on
 * `bookings` (each firm's stream sees only its own). Duplicates (a change the outbox
 * relay published again) are dropped by the board.
 */
export function slotFeed(kafka: Kafka, topic: string, group: string, hub: LiveHub, board: SlotBoard, logger: Logger, options: FeedOptions = {}) {
  return broadcastFeed(kafka, topic, group, decodeSlotMessage, ({ value: change }) => {
    const now = Date.now();
    if (change.kind === 'availability') {
      if (board.putWindow(change.availability, now)) hub.publish('slots', change.availability, now);
    } else if (board.putBooking(change.booking, now)) hub.publish('bookings', bookingView(change.booking), now);
  }, logger, options);
}
