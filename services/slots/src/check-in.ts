import type { ConsumerHandler, PartitionBatch } from '@tower/shared';
import type { SlotDesk } from './desk.ts';

/**
 * Truck events from Kafka against the bookings: an arrival at a site checks in (or
 * flags late) the confirmed booking of that plate, site and direction whose window is
 * nearest; crossing the border line completes it. Events are handled in order per
 * plate (the topic's key); a Redis failure fails the batch, which the consumer runner
 * retries, and replaying an event changes nothing twice.
 */
export class CheckInMatcher implements ConsumerHandler {
  matched = 0;

  constructor(private readonly desk: SlotDesk) {}

  async handleBatch(batch: PartitionBatch): Promise<void> {
    for (const { event } of batch.events) {
      if (event.type === 'truck.arrived') {
        if (await this.desk.arrive(event.plate, event.site, event.direction, event.observedAt)) this.matched += 1;
      } else if (event.type === 'truck.border-crossed') {
        await this.desk.cross(event.plate, event.site, event.observedAt);
      }
    }
  }
}
