import { Counter, Histogram, type Registry } from 'prom-client';
import type { BookingObserver, BookingOperation, BookingOutcome } from './desk.ts';

/**
 * The firms' booking operations in /metrics: how each ended (`tower_slots_bookings_total`,
 * by operation, outcome and the refusing rule, `none` when no rule refused) and how long the
 * slot store took to decide (`tower_slots_booking_duration_seconds`, from the desk taking the
 * request to Redis's answer: the Lua script and its round trips, not the Kafka publish).
 */
export class SlotMetrics implements BookingObserver {
  private readonly bookings: Counter<'operation' | 'outcome' | 'rule'>;
  private readonly duration: Histogram<'operation'>;

  constructor(registry: Registry) {
    this.bookings = new Counter({
      name: 'tower_slots_bookings_total',
      help: 'Booking operations (hold, confirm, cancel) by outcome and, for refusals, the rule that refused',
      labelNames: ['operation', 'outcome', 'rule'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'tower_slots_booking_duration_seconds',
      help: 'Time from the slots desk taking a booking operation to the slot store (Redis) answering it, by operation',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
  }

  answered(operation: BookingOperation, seconds: number): void {
    this.duration.observe({ operation }, seconds);
  }

  ended(operation: BookingOperation, outcome: BookingOutcome, rule = 'none'): void {
    this.bookings.inc({ operation, outcome, rule });
  }
}
