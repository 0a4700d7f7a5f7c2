import {
  laneGroupOf,
  newerBooking,
  plannedCapacity,
  readSlotBookings,
  readSlotWindows,
  slotWindowKey,
  type CapacityPlan,
  type ClickHouseClient,
  type SlotAvailability,
  type SlotBooking,
} from '@tower/shared';

export interface SlotBoardSettings {
  windowMs: number;
  /** The capacity plan, as the slots service runs it: places of windows nobody touched. */
  plan: CapacityPlan;
  /** The `slots` snapshot covers the current window to this far ahead. */
  horizonMs: number;
  /** The `bookings` snapshot covers windows from this far back… */
  bookingsLookbackMs: number;
  /** …to this far ahead. */
  bookingsAheadMs: number;
  /** Most bookings one snapshot holds (rows read from ClickHouse: four times that). */
  maxBookings: number;
}

/**
 * What the gateway knows of crossing slots: the newest places of each window and the
 * newest state of each booking seen on `tower.slots.v1` since it started, merged in
 * snapshots with the history in ClickHouse (what changed before) and the capacity plan
 * (windows nobody touched). The newer side wins: the higher version of a window, the
 * later state of a booking; so a snapshot never goes behind a delta already sent.
 * Bounded: windows and bookings older than the lookback are dropped.
 */
export class SlotBoard {
  private readonly windows = new Map<string, SlotAvailability>();
  private readonly bookings = new Map<string, SlotBooking>();
  /** When `windowsAhead` last read the stored windows, and up to where. */
  private seed: { at: number; to: number } | undefined;

  constructor(private readonly settings: SlotBoardSettings) {}

  private get plan(): CapacityPlan {
    return this.settings.plan;
  }

  /** Keeps a window's places; false when an equal or newer version is known (a duplicate: not worth sending). */
  putWindow(window: SlotAvailability, now: number): boolean {
    const key = slotWindowKey(window);
    const known = this.windows.get(key);
    if (known && known.version >= window.version) return false;
    this.windows.set(key, window);
    if (this.windows.size % 1000 === 0) this.prune(now);
    return true;
  }

  /** Keeps a booking's state; false when it is not newer than the one known. */
  putBooking(booking: SlotBooking, now: number): boolean {
    const known = this.bookings.get(booking.id);
    if (known && newerBooking(known, booking) === known) return false;
    this.bookings.set(booking.id, booking);
    if (this.bookings.size % 1000 === 0) this.prune(now);
    return true;
  }

  /** Every window of every bookable lane group of `site` (or all sites) from the current window to the horizon (`clickhouse`: the snapshot read's own client). */
  async windowSnapshot(site: string | undefined, now: number, clickhouse: ClickHouseClient): Promise<SlotAvailability[]> {
    const { from, to } = this.horizonFrom(now);
    return this.merged(site, from, to, await readSlotWindows(clickhouse, { fromMs: from, toMs: to, windowMs: this.settings.windowMs, ...(site ? { site } : {}) }));
  }

  /**
   * Every window of every bookable lane group in [from, to) without a read of its own
   * each time (the gate conditions, every KPI round): the plan and what the board holds.
   * The windows changed before this instance started (or before the feed delivered them)
   * are put on the board from ClickHouse when none were read yet, after `reseedMs`, or
   * when `to` passes the horizon last read; the feed keeps it current in between.
   */
  async windowsAhead(from: number, to: number, now: number, clickhouse: ClickHouseClient, reseedMs: number): Promise<SlotAvailability[]> {
    const seed = this.seed;
    if (!seed || now - seed.at > reseedMs || to > seed.to) {
      const horizon = this.horizonFrom(now);
      const stored = await readSlotWindows(clickhouse, { fromMs: horizon.from, toMs: Math.max(to, horizon.to), windowMs: this.settings.windowMs });
      for (const window of stored) this.putWindow(window, now);
      this.seed = { at: now, to: Math.max(to, horizon.to) };
    }
    return this.merged(undefined, from, to, []);
  }

  private horizonFrom(now: number): { from: number; to: number } {
    const { windowMs } = this.settings;
    const from = Math.floor(now / windowMs) * windowMs;
    return { from, to: from + Math.ceil(this.settings.horizonMs / windowMs) * windowMs };
  }

  /** The plan's windows of [from, to), each replaced by the newest of `stored` and the board's. */
  private merged(site: string | undefined, from: number, to: number, stored: readonly SlotAvailability[]): SlotAvailability[] {
    const { windowMs } = this.settings;
    const groups = Object.keys(this.plan.weekly).filter((group) => site === undefined || group.startsWith(`${site}|`));
    const merged = new Map<string, SlotAvailability>();
    for (let windowStart = from; windowStart < to; windowStart += windowMs) {
      for (const group of groups) {
        const [groupSite = '', laneKind = '', direction = ''] = group.split('|');
        const capacity = plannedCapacity(this.plan, { site: groupSite, laneKind, direction, windowStart }, windowMs);
        const window: SlotAvailability = { site: groupSite, laneKind, direction: direction as SlotAvailability['direction'], windowStart, windowEnd: windowStart + windowMs, capacity, held: 0, booked: 0, free: capacity, closed: false, version: 0 };
        merged.set(slotWindowKey(window), window);
      }
    }
    for (const window of [...stored, ...this.windows.values()]) {
      const key = slotWindowKey(window);
      const known = merged.get(key);
      if (known && known.version < window.version) merged.set(key, window);
    }
    return [...merged.values()].sort((a, b) => a.windowStart - b.windowStart || laneGroupOf(a).localeCompare(laneGroupOf(b)));
  }

  /** The bookings of one firm (or all) of windows from the lookback to ahead, newest state of each, by window start. */
  async bookingSnapshot(firm: string | undefined, now: number, clickhouse: ClickHouseClient): Promise<SlotBooking[]> {
    const fromMs = now - this.settings.bookingsLookbackMs;
    const toMs = now + this.settings.bookingsAheadMs;
    const stored = await readSlotBookings(clickhouse, { fromMs, toMs, ...(firm ? { firm } : {}), maxRows: this.settings.maxBookings * 4 });
    const merged = new Map(stored.map((b) => [b.id, b]));
    for (const booking of this.bookings.values()) {
      if ((firm !== undefined && booking.firm !== firm) || booking.windowStart < fromMs || booking.windowStart >= toMs) continue;
      const known = merged.get(booking.id);
      merged.set(booking.id, known ? newerBooking(known, booking) : booking);
    }
    return [...merged.values()].sort((a, b) => a.windowStart - b.windowStart || a.id.localeCompare(b.id)).slice(0, this.settings.maxBookings);
  }

  private prune(now: number): void {
    const oldest = now - this.settings.bookingsLookbackMs;
    for (const [key, window] of this.windows) if (window.windowEnd < oldest) this.windows.delete(key);
    for (const [id, booking] of this.bookings) if (booking.windowEnd < oldest) this.bookings.delete(id);
  }
}
