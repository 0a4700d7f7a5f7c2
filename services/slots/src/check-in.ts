import { Counter, type Registry } from 'prom-client';
import { batchHandled, classifyError, type ConsumerHandler, type HandlerOutcome, type PartitionBatch } from '@tower/shared';
import type { SlotDesk } from './desk.ts';

/**
 * Truck events from Kafka against the bookings: an arrival at a site checks in (or
 * flags late) the confirmed booking of that plate, site and direction whose window is
 * nearest; crossing the border line completes it. Events are handled in order per
 * plate (the topic's key). Redis or Kafka away (a transient error) is a `retry` of the
 * batch, which the consumer runner retries with backoff, and replaying an event changes
 * nothing twice; any other error is let through for the runner to classify.
 */
export class CheckInMatcher implements ConsumerHandler {
  private readonly matched: Counter<'outcome'>;

  constructor(
    private readonly desk: SlotDesk,
    metrics: Registry,
  ) {
    this.matched = new Counter({ name: 'tower_slots_check_ins_total', help: 'Truck events matched to a booking: checked-in, late, completed', labelNames: ['outcome'], registers: [metrics] });
  }

  async handleBatch(batch: PartitionBatch): Promise<HandlerOutcome> {
    for (const { event } of batch.events) {
      try {
        const booking =
          event.type === 'truck.arrived' ? await this.desk.arrive(event.plate, event.site, event.direction, event.observedAt)
          : event.type === 'truck.border-crossed' ? await this.desk.cross(event.plate, event.site, event.observedAt)
          : undefined;
        if (booking) this.matched.inc({ outcome: booking.state });
      } catch (error) {
        if (!(error instanceof Error) || classifyError(error) !== 'transient') throw error;
        return { kind: 'retry', cause: error };
      }
    }
    return batchHandled;
  }
}
