import type { Logger } from '@tower/shared';
import type { PlannedBooking } from './domain/slot-demand.ts';

export interface BookerStats {
  held: number;
  confirmed: number;
  /** Refusals by rule (window-full, plate-already-booked, …): part of the demo, not errors. */
  refused: Record<string, number>;
  failed: number;
  lastError?: string;
}

/**
 * Simulated logistics firms on the slots API: each planned booking is held (with its
 * Idempotency-Key) and, for most, confirmed; the firms' keys take turns. At most
 * `maxInFlight` requests at once and `maxQueued` waiting: when the slots API is away,
 * the oldest plans are dropped (a demo's firms give up; nothing of the traffic is lost).
 */
export class SlotBooker {
  private readonly queue: PlannedBooking[] = [];
  private inFlight = 0;
  private turn = 0;
  readonly stats: BookerStats = { held: 0, confirmed: 0, refused: {}, failed: 0 };

  constructor(
    private readonly slotsUrl: string,
    private readonly firmKeys: readonly string[],
    private readonly logger: Logger,
    private readonly limits = { maxInFlight: 4, maxQueued: 1000 },
  ) {}

  enqueue(plans: readonly PlannedBooking[]): void {
    if (this.firmKeys.length === 0) return;
    this.queue.push(...plans);
    if (this.queue.length > this.limits.maxQueued) this.queue.splice(0, this.queue.length - this.limits.maxQueued);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Starts requests up to the in-flight limit; resolves when those are done. */
  async flush(): Promise<void> {
    const started: Promise<void>[] = [];
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) started.push(this.book(this.queue.shift()!));
    await Promise.all(started);
  }

  private async book(plan: PlannedBooking): Promise<void> {
    this.inFlight += 1;
    const key = this.firmKeys[this.turn++ % this.firmKeys.length]!;
    try {
      const { confirm, idempotencyKey, ...body } = plan;
      const held = await this.post('/v1/bookings', key, body, { 'idempotency-key': idempotencyKey });
      if (held.status === 409) {
        const rule = String(held.body['rule'] ?? 'conflict');
        this.stats.refused[rule] = (this.stats.refused[rule] ?? 0) + 1;
        return;
      }
      if (held.status !== 201 && held.status !== 200) throw new Error(`hold answered ${held.status}: ${String(held.body['detail'] ?? '')}`);
      this.stats.held += 1;
      if (!confirm) return;
      const confirmed = await this.post(`/v1/bookings/${String(held.body['id'])}/confirm`, key);
      if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}: ${String(confirmed.body['detail'] ?? '')}`);
      this.stats.confirmed += 1;
    } catch (error) {
      this.stats.failed += 1;
      this.stats.lastError = (error as Error).message;
      this.logger.debug({ err: error, plate: plan.plate }, 'simulated booking failed');
    } finally {
      this.inFlight -= 1;
    }
  }

  private async post(path: string, key: string, body?: object, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.slotsUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
  }
}
