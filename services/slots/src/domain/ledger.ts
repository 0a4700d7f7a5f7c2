import { createHash } from 'node:crypto';
import type { CargoClass, Direction } from '@tower/shared';
import { applyBookingAction, elapse, placeHolding, type Booking, type BookingAction, type SlotRules, type Transition } from './bookings.ts';
import { fleetTruck, truckOf, type FleetRules, type FleetTruck, type RegisterOutcome, type RemoveOutcome, type TransferOutcome, type TruckRegistration } from './fleet.ts';

export { truckOf };

/** One bookable window of one lane group (lane kind and direction) at one site. */
export interface SlotWindow {
  site: string;
  laneKind: string;
  direction: Direction;
  windowStart: number;
}

export const windowKeyOf = (w: SlotWindow) => `${w.site}|${w.laneKind}|${w.direction}|${w.windowStart}`;

/**
 * A booking's id follows from its firm and Idempotency-Key (SHA-256, 20 hex digits): a
 * retried request names the same booking by construction, in memory and in Redis alike.
 */
export function bookingIdOf(firm: string, idempotencyKey: string): string {
  return `bk_${createHash('sha256').update(`${firm}\n${idempotencyKey}`).digest('hex').slice(0, 20)}`;
}

export interface LedgerRules extends SlotRules, FleetRules {
  windowMs: number;
  /** Anti-hoarding: places one firm may hold in one window. */
  maxPerFirmPerWindow: number;
  /** A firm whose no-show rate is over this (with at least `noShowMinDecided` decided bookings)… */
  noShowRateLimit: number;
  noShowMinDecided: number;
  /** …gets its cap multiplied by this (rounded down, at least 1). */
  noShowCapFactor: number;
}

export const defaultLedgerRules: LedgerRules = {
  holdMs: 5 * 60_000,
  toleranceMs: 30 * 60_000,
  lateGraceMs: 2 * 3600_000,
  cancelCutoffMs: 2 * 3600_000,
  windowMs: 30 * 60_000,
  maxPerFirmPerWindow: 10,
  noShowRateLimit: 0.2,
  noShowMinDecided: 10,
  noShowCapFactor: 0.5,
  maxFleetTrucks: 2000,
  registrationRefusalsPerHour: 20,
};

export interface FirmRecord {
  /** Bookings whose window passed with an outcome: arrived (on time or late) or no-show. */
  decided: number;
  noShows: number;
}

/** The cap of a firm in one window, tightened while its no-show rate is over the limit. */
export function firmCap(record: FirmRecord | undefined, rules: LedgerRules): number {
  if (!record || record.decided < rules.noShowMinDecided || record.noShows / record.decided <= rules.noShowRateLimit) return rules.maxPerFirmPerWindow;
  return Math.max(1, Math.floor(rules.maxPerFirmPerWindow * rules.noShowCapFactor));
}

export interface HoldRequest extends SlotWindow {
  firm: string;
  plate: string;
  cargoClass: CargoClass;
  /** The client's Idempotency-Key: a retried request gets the same booking. */
  idempotencyKey: string;
  at: number;
}

/** The held booking a successful hold request makes. */
export function newBooking(request: HoldRequest, rules: LedgerRules): Booking {
  return {
    id: bookingIdOf(request.firm, request.idempotencyKey),
    firm: request.firm,
    plate: request.plate,
    cargoClass: request.cargoClass,
    site: request.site,
    laneKind: request.laneKind,
    direction: request.direction,
    windowStart: request.windowStart,
    windowEnd: request.windowStart + rules.windowMs,
    state: 'held',
    heldUntil: request.at + rules.holdMs,
    createdAt: request.at,
    updatedAt: request.at,
    arrivedAt: null,
    cancelledBy: null,
  };
}

/**
 * Whether a replayed request (same firm, same Idempotency-Key) asks for what the booking
 * it names is: a key reused for a different slot or truck is refused, never silently
 * answered with the first booking.
 */
export function sameHoldRequest(booking: Booking, request: HoldRequest): boolean {
  return (
    booking.site === request.site &&
    booking.laneKind === request.laneKind &&
    booking.direction === request.direction &&
    booking.windowStart === request.windowStart &&
    booking.plate === request.plate &&
    booking.cargoClass === request.cargoClass
  );
}

/**
 * `plate-not-in-fleet` is checked before the rules that look at bookings: a firm asking
 * for a truck that is not its own learns that, and never whether the truck is booked.
 */
export type HoldRefusal = 'idempotency-key-reused' | 'window-not-aligned' | 'window-past' | 'plate-not-in-fleet' | 'window-closed' | 'window-full' | 'firm-cap-reached' | 'plate-already-booked';

export type HoldOutcome = { ok: true; booking: Booking; replayed: boolean } | { ok: false; refusal: HoldRefusal };

export interface Availability {
  capacity: number;
  held: number;
  booked: number;
  free: number;
  closed: boolean;
}

/**
 * Slots and bookings in memory: the reference model of the rules. The Redis store does
 * the same in Lua, atomically per window; the property tests run random commands
 * against this model to prove the rules, and the store's tests against both.
 */
export class SlotLedger {
  private readonly bookings = new Map<string, Booking>();
  private readonly byWindow = new Map<string, Set<string>>();
  private readonly byIdempotency = new Map<string, string>();
  private readonly overrides = new Map<string, { capacity?: number; closed?: boolean }>();
  private readonly firms = new Map<string, FirmRecord>();
  private readonly decided = new Set<string>();
  /** firm → plate key → truck, and plate key → the firm whose fleet has it. */
  private readonly fleets = new Map<string, Map<string, FleetTruck>>();
  private readonly owners = new Map<string, string>();

  constructor(
    readonly rules: LedgerRules,
    /** The template capacity of a window (open dedicated lanes × nominal rate × window length). */
    private readonly templateCapacity: (window: SlotWindow) => number,
  ) {}

  hold(request: HoldRequest): HoldOutcome {
    const replayedId = this.byIdempotency.get(`${request.firm}|${request.idempotencyKey}`);
    if (replayedId) {
      const booking = this.booking(replayedId, request.at)!;
      return sameHoldRequest(booking, request) ? { ok: true, booking, replayed: true } : { ok: false, refusal: 'idempotency-key-reused' };
    }
    if (request.windowStart % this.rules.windowMs !== 0) return { ok: false, refusal: 'window-not-aligned' };
    if (request.at >= request.windowStart + this.rules.windowMs) return { ok: false, refusal: 'window-past' };
    if (this.owners.get(truckOf(request.plate)) !== request.firm) return { ok: false, refusal: 'plate-not-in-fleet' };
    const availability = this.availability(request, request.at);
    if (availability.closed) return { ok: false, refusal: 'window-closed' };
    if (this.truckBooked(request)) return { ok: false, refusal: 'plate-already-booked' };
    const open = this.windowBookings(request, request.at).filter((b) => placeHolding.has(b.state));
    if (availability.free <= 0) return { ok: false, refusal: 'window-full' };
    if (open.filter((b) => b.firm === request.firm).length >= firmCap(this.firms.get(request.firm), this.rules)) return { ok: false, refusal: 'firm-cap-reached' };
    const booking = newBooking(request, this.rules);
    this.bookings.set(booking.id, booking);
    const key = windowKeyOf(request);
    (this.byWindow.get(key) ?? this.byWindow.set(key, new Set()).get(key)!).add(booking.id);
    this.byIdempotency.set(`${request.firm}|${request.idempotencyKey}`, booking.id);
    return { ok: true, booking, replayed: false };
  }

  act(id: string, action: BookingAction): Transition | undefined {
    const current = this.bookings.get(id);
    if (!current) return undefined;
    const transition = applyBookingAction(current, action, this.rules);
    this.store(transition.booking);
    return transition;
  }

  /** The booking as time has made it at `at` (expired holds, no-shows); a read: only actions (a `tick` too) store it. */
  booking(id: string, at: number): Booking | undefined {
    const current = this.bookings.get(id);
    return current && elapse(current, at, this.rules);
  }

  availability(window: SlotWindow, at: number): Availability {
    const override = this.overrides.get(windowKeyOf(window));
    const capacity = override?.capacity ?? this.templateCapacity(window);
    const closed = override?.closed ?? false;
    let held = 0;
    let booked = 0;
    for (const booking of this.windowBookings(window, at)) {
      if (booking.state === 'held') held += 1;
      else if (placeHolding.has(booking.state)) booked += 1;
    }
    return { capacity, held, booked, free: closed ? 0 : Math.max(0, capacity - held - booked), closed };
  }

  /** Operators: a window's capacity (fewer places never cancels bookings already made). */
  setCapacity(window: SlotWindow, capacity: number): void {
    const key = windowKeyOf(window);
    this.overrides.set(key, { ...this.overrides.get(key), capacity });
  }

  setClosed(window: SlotWindow, closed: boolean): void {
    const key = windowKeyOf(window);
    this.overrides.set(key, { ...this.overrides.get(key), closed });
  }

  /** A firm registers a truck: again by its owner updates its details; in another firm's fleet, refused. */
  registerTruck(firm: string, registration: TruckRegistration, at: number): RegisterOutcome {
    const plateKey = truckOf(registration.plate);
    const owner = this.owners.get(plateKey);
    if (owner !== undefined && owner !== firm) return { ok: false, refusal: 'plate-in-another-fleet' };
    const fleet = this.fleetOf(firm);
    const stored = fleet.get(plateKey);
    if (!stored && fleet.size >= this.rules.maxFleetTrucks) return { ok: false, refusal: 'fleet-full' };
    const truck = fleetTruck(registration, stored?.registeredAt ?? at);
    fleet.set(plateKey, truck);
    this.owners.set(plateKey, firm);
    return { ok: true, truck, created: !stored };
  }

  /**
   * A firm takes a truck out of its fleet, unless one of its own bookings of the truck
   * is still held or confirmed (another firm's bookings of the plate, made before a
   * transfer, are not this firm's to know of). Another firm's truck is as unknown as none.
   */
  removeTruck(firm: string, plate: string, at: number): RemoveOutcome {
    const plateKey = truckOf(plate);
    if (this.owners.get(plateKey) !== firm) return { ok: false, refusal: 'truck-not-in-fleet' };
    if (this.liveBookings(firm, plateKey, at) > 0) return { ok: false, refusal: 'truck-has-bookings' };
    this.fleetOf(firm).delete(plateKey);
    this.owners.delete(plateKey);
    return { ok: true };
  }

  /**
   * Operators move a truck to another firm's fleet, once the firm that has it holds or
   * confirmed none of it still ahead (the same rule as removal): a booking left behind
   * would answer the new owner's holds plate-already-booked, telling it of another firm's
   * booking, and stay the old firm's to confirm.
   */
  transferTruck(plate: string, toFirm: string, at: number): TransferOutcome {
    const plateKey = truckOf(plate);
    const fromFirm = this.owners.get(plateKey);
    if (fromFirm === undefined) return { ok: false, refusal: 'truck-not-in-fleet' };
    const truck = this.fleetOf(fromFirm).get(plateKey)!;
    if (fromFirm === toFirm) return { ok: true, truck, fromFirm };
    const bookings = this.liveBookings(fromFirm, plateKey, at);
    if (bookings > 0) return { ok: false, refusal: 'truck-has-bookings', bookings };
    const to = this.fleetOf(toFirm);
    if (to.size >= this.rules.maxFleetTrucks) return { ok: false, refusal: 'fleet-full' };
    const moved = { ...truck, registeredAt: at };
    this.fleetOf(fromFirm).delete(plateKey);
    to.set(plateKey, moved);
    this.owners.set(plateKey, toFirm);
    return { ok: true, truck: moved, fromFirm };
  }

  /** A firm's trucks, by plate key. */
  fleet(firm: string): FleetTruck[] {
    return [...this.fleetOf(firm).values()].sort((a, b) => a.plateKey.localeCompare(b.plateKey));
  }

  /** The firm whose fleet has the truck a plate names. */
  truckOwner(plate: string): string | undefined {
    return this.owners.get(truckOf(plate));
  }

  firmRecord(firm: string): FirmRecord {
    return this.firms.get(firm) ?? { decided: 0, noShows: 0 };
  }

  /**
   * A truck is in one place at a time: its plate (however written) has a held or
   * confirmed booking whose window overlaps the requested one, at any site, lane group
   * and direction. Every window has the same length and starts on a multiple of it, so
   * overlapping windows are the same window (the Redis store indexes trucks by window
   * start).
   */
  private truckBooked(request: HoldRequest): boolean {
    const end = request.windowStart + this.rules.windowMs;
    return [...this.bookings.keys()].some((id) => {
      const b = this.booking(id, request.at)!;
      return truckOf(b.plate) === truckOf(request.plate) && (b.state === 'held' || b.state === 'confirmed') && b.windowStart < end && request.windowStart < b.windowEnd;
    });
  }

  /** How many of a firm's bookings of a truck are held or confirmed at `at`. */
  private liveBookings(firm: string, plateKey: string, at: number): number {
    return [...this.bookings.keys()].filter((id) => {
      const b = this.booking(id, at)!;
      return b.firm === firm && truckOf(b.plate) === plateKey && (b.state === 'held' || b.state === 'confirmed');
    }).length;
  }

  private fleetOf(firm: string): Map<string, FleetTruck> {
    return this.fleets.get(firm) ?? this.fleets.set(firm, new Map()).get(firm)!;
  }

  private windowBookings(window: SlotWindow, at: number): Booking[] {
    return [...(this.byWindow.get(windowKeyOf(window)) ?? [])].map((id) => this.booking(id, at)!);
  }

  /** Keeps a booking's new state and counts its outcome once in its firm's record. */
  private store(booking: Booking): void {
    this.bookings.set(booking.id, booking);
    const outcome = booking.state === 'no-show' ? 'no-show' : booking.arrivedAt !== null ? 'arrived' : undefined;
    if (!outcome || this.decided.has(booking.id)) return;
    this.decided.add(booking.id);
    const record = this.firmRecord(booking.firm);
    this.firms.set(booking.firm, { decided: record.decided + 1, noShows: record.noShows + (outcome === 'no-show' ? 1 : 0) });
  }
}
