import type { Logger } from '@tower/shared';
import type { PlannedBooking } from './domain/slot-demand.ts';

/** The slots API is not there now: the plan is tried again. */
class Unavailable extends Error {}

export interface BookerStats {
  held: number;
  confirmed: number;
  /** Refusals by rule (window-full, plate-already-booked, …): part of the demo, not errors. */
  refused: Record<string, number>;
  failed: number;
  lastError?: string;
}

/** The truck a plate names, however written (the slots service's plate key: 14C-123.45 = 14C12345). */
const plateKeyOf = (plate: string) => plate.replace(/[-.·]/g, '');

/** Which of `firms` firms a truck belongs to: the same one every run, so each plate stays in one fleet. */
function firmIndexOf(plate: string, firms: number): number {
  let hash = 0;
  for (const char of plateKeyOf(plate)) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return hash % firms;
}

/**
 * Simulated logistics firms on the slots API: each planned booking is held (with its
 * Idempotency-Key) and, for most, confirmed, by the firm whose fleet has the truck (each
 * plate belongs to one of the firms' keys, always the same); a firm registers a truck in
 * its fleet (POST /v1/fleet/trucks, idempotent) before its first hold. While the slots
 * API is unreachable or answers 503, plans wait and are tried again (the key makes a
 * retry harmless) until their window has passed. At most `maxInFlight` requests at once
 * and `maxQueued` waiting: beyond that the oldest plans are dropped (a demo's firms give
 * up; nothing of the traffic is lost).
 */
export class SlotBooker {
  private readonly queue: PlannedBooking[] = [];
  private inFlight = 0;
  private retryAt = 0;
  /** Trucks registered in their firm's fleet by this process (`<key index>|<plate key>`); registering again is harmless. */
  private readonly registered = new Set<string>();
  readonly stats: BookerStats = { held: 0, confirmed: 0, refused: {}, failed: 0 };

  constructor(
    private readonly slotsUrl: string,
    private readonly firmKeys: readonly string[],
    private readonly logger: Logger,
    private readonly limits: { maxInFlight: number; maxQueued: number; evictions?: number } = { maxInFlight: 4, maxQueued: 1000 },
    private readonly now: () => number = Date.now,
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
    if (this.now() < this.retryAt) return;
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) started.push(this.book(this.queue.shift()!));
    await Promise.all(started);
  }

  private async book(plan: PlannedBooking): Promise<void> {
    this.inFlight += 1;
    const firm = firmIndexOf(plan.plate, this.firmKeys.length);
    const key = this.firmKeys[firm]!;
    try {
      const { confirm, idempotencyKey, ...body } = plan;
      if (!(await this.ownTruck(firm, key, plan.plate))) return;
      const held = await this.post('/v1/bookings', key, body, { 'idempotency-key': idempotencyKey });
      if (held.status === 409) {
        const rule = String(held.body['rule'] ?? 'conflict');
        this.stats.refused[rule] = (this.stats.refused[rule] ?? 0) + 1;
        return;
      }
      if (held.status === 503) throw new Unavailable(`hold answered 503: ${String(held.body['detail'] ?? '')}`);
      if (held.status !== 201 && held.status !== 200) throw new Error(`hold answered ${held.status}: ${String(held.body['detail'] ?? '')}`);
      this.stats.held += 1;
      if (!confirm) return;
      const confirmed = await this.post(`/v1/bookings/${String(held.body['id'])}/confirm`, key);
      if (confirmed.status === 503) throw new Unavailable(`confirm answered 503: ${String(confirmed.body['detail'] ?? '')}`);
      if (confirmed.status !== 200) throw new Error(`confirm answered ${confirmed.status}: ${String(confirmed.body['detail'] ?? '')}`);
      this.stats.confirmed += 1;
    } catch (error) {
      this.stats.failed += 1;
      this.stats.lastError = (error as Error).message;
      this.logger.debug({ err: error, plate: plan.plate }, 'simulated booking failed');
      if (error instanceof Unavailable && plan.windowStart + 30 * 60_000 > this.now()) {
        this.queue.unshift(plan);
        this.retryAt = this.now() + 2000;
      }
    } finally {
      this.inFlight -= 1;
    }
  }

  /**
   * Registers the truck in the firm's fleet once; false when a rule refused it (counted).
   * The simulated trucks are many more than a fleet holds (FLEET_MAX_TRUCKS): a full
   * fleet makes room first, as a dispatcher would, by removing its longest-registered
   * trucks that have no booking ahead.
   */
  private async ownTruck(firm: number, key: string, plate: string, roomMade = false): Promise<boolean> {
    const truck = `${firm}|${plateKeyOf(plate)}`;
    if (this.registered.has(truck)) return true;
    const answer = await this.request('POST', '/v1/fleet/trucks', key, { plate, country: /^[0-9]/.test(plate) ? 'VN' : 'CN' });
    if (answer.status === 409 && answer.body['rule'] === 'fleet-full' && !roomMade) {
      await this.makeRoom(firm, key);
      return this.ownTruck(firm, key, plate, true);
    }
    if (answer.status === 409) {
      const rule = String(answer.body['rule'] ?? 'conflict');
      this.stats.refused[rule] = (this.stats.refused[rule] ?? 0) + 1;
      return false;
    }
    if (answer.status === 503) throw new Unavailable(`registering the truck answered 503: ${String(answer.body['detail'] ?? '')}`);
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`registering the truck answered ${answer.status}: ${String(answer.body['detail'] ?? '')}`);
    if (this.registered.size >= 100_000) this.registered.clear();
    this.registered.add(truck);
    return true;
  }

  /** Removes up to `evictions` of the firm's longest-registered trucks (one with a booking ahead stays: 409). */
  private async makeRoom(firm: number, key: string): Promise<void> {
    const listed = await this.request('GET', '/v1/fleet/trucks', key);
    if (listed.status !== 200) throw new Error(`listing the fleet answered ${listed.status}: ${String(listed.body['detail'] ?? '')}`);
    const trucks = (listed.body['trucks'] as { plate: string; plateKey: string; registeredAt: number }[]).sort((a, b) => a.registeredAt - b.registeredAt);
    for (const truck of trucks.slice(0, this.limits.evictions ?? 20)) {
      const removed = await this.request('DELETE', `/v1/fleet/trucks/${encodeURIComponent(truck.plate)}`, key);
      if (removed.status === 204 || removed.status === 404) this.registered.delete(`${firm}|${truck.plateKey}`);
    }
  }

  private post(path: string, key: string, body?: object, headers: Record<string, string> = {}) {
    return this.request('POST', path, key, body, headers);
  }

  private async request(method: 'GET' | 'POST' | 'DELETE', path: string, key: string, body?: object, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.slotsUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5000),
    }).catch((error: unknown) => {
      throw new Unavailable(`the slots API did not answer (${(error as Error).message})`);
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
  }
}
