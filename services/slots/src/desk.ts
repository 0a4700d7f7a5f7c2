import { chinesePlatePattern, isRedisUnavailable, laneGroupOf, sitePhase, vietnamesePlatePattern, vietnamIso, type AccessRecord, type BookingState, type CapacityPlan, type Direction, type SiteCatalog, type SlotAvailability } from '@tower/shared';
import type { Booking, BookingAction, BookingRefusal } from './domain/bookings.ts';
import type { FleetTruck, TruckRegistration } from './domain/fleet.ts';
import { bookingIdOf, firmCap, type HoldRefusal, type HoldRequest, type SlotWindow } from './domain/ledger.ts';
import { BookingNotFound, ForbiddenForRole, InvalidInput, isDeskError, RuleRefusal, StoreUnavailable, TruckNotFound } from './desk-errors.ts';
import type { RedisSlotStore, SlotChange } from './store/slot-store.ts';

/** Sends changes to `tower.slots.v1` and forgets them in the outbox; throws StoreUnavailable('kafka') when Kafka does not acknowledge. */
export interface ChangePublisher {
  publish(changes: readonly SlotChange[]): Promise<void>;
}

/** The firms' booking operations (check-in and the sweeper are the system's). */
export type BookingOperation = 'hold' | 'confirm' | 'cancel';

/** How a booking operation ended: the state it made, an idempotent replay, a rule's refusal, or Redis or Kafka not answering. */
export type BookingOutcome = 'held' | 'replayed' | 'confirmed' | 'cancelled' | 'refused' | 'unavailable';

/** What the desk tells of the firms' booking operations (the service's metrics); every label value comes from the code. */
export interface BookingObserver {
  /** The slot store answered `operation` (refusals too) `seconds` after the desk took it. */
  answered(operation: BookingOperation, seconds: number): void;
  /** How `operation` ended; `rule` names the rule that refused it. Requests refused before the store (forbidden, not found, invalid) are not booking outcomes. */
  ended(operation: BookingOperation, outcome: BookingOutcome, rule?: HoldRefusal | BookingRefusal): void;
}

const unobserved: BookingObserver = { answered: () => {}, ended: () => {} };

/** Why a truck's registration was refused: another firm's truck, a full fleet, or the firm past its budget of the first. */
export type RegistrationRefusal = 'plate-in-another-fleet' | 'fleet-full' | 'over-budget';

/** What the desk tells of refused truck registrations (metrics and a warning: a firm probing or squatting plates shows up). */
export interface FleetObserver {
  /** `firm`'s key `keyId` was refused; `inHour`: its registrations refused plate-in-another-fleet in the last hour, of `budget`. */
  registrationRefused(refusal: { firm: string; keyId: string; reason: RegistrationRefusal; inHour: number; budget: number }): void;
}

const unwatched: FleetObserver = { registrationRefused: () => {} };
const secondsSince = (started: number) => (performance.now() - started) / 1000;

export interface DeskSettings {
  /** How far ahead a window may be booked. */
  horizonMs: number;
  /** Longest range one availability or booking list may span. */
  maxRangeMs: number;
  /** Most bookings one list answers with. */
  maxBookings: number;
  /** Whether a firm has a key in the access registry (a transfer's `toFirm` must). */
  knownFirm: (firm: string) => boolean;
}

export type Places = Omit<SlotAvailability, 'site' | 'version'>;

export interface AvailabilityQuery {
  site: string;
  laneKind?: string;
  direction?: Direction;
  from?: number;
  to?: number;
}

export interface BookingsQuery {
  from?: number;
  to?: number;
  state?: BookingState;
  site?: string;
  firm?: string;
}

export interface WindowOverride extends SlotWindow {
  capacity?: number;
  closed?: boolean;
}

const dayMs = 86_400_000;
const platePatterns = { VN: new RegExp(vietnamesePlatePattern), CN: new RegExp(chinesePlatePattern) };

/**
 * The slots service's one entry point, for the HTTP routes, check-in matching and the
 * sweeper alike: who may do what (a firm only its own bookings, operators all), the
 * rules' refusals, and every change published before the answer. It says no with the
 * domain's errors (desk-errors.ts), never HTTP ones; fields are named as the caller
 * gave them (`site`, `windowStart`).
 */
export class SlotDesk {
  private readonly groups: Map<string, { laneKind: string; direction: Direction }[]>;

  constructor(
    private readonly store: RedisSlotStore,
    private readonly publisher: ChangePublisher,
    plan: CapacityPlan,
    private readonly catalog: SiteCatalog,
    private readonly settings: DeskSettings,
    private readonly observer: BookingObserver = unobserved,
    private readonly fleetObserver: FleetObserver = unwatched,
  ) {
    this.groups = new Map();
    for (const group of Object.keys(plan.weekly)) {
      const [site = '', laneKind = '', direction = ''] = group.split('|');
      this.groups.set(site, [...(this.groups.get(site) ?? []), { laneKind, direction: direction as Direction }]);
    }
  }

  get windowMs(): number {
    return this.store.rules.windowMs;
  }

  /** Lane groups of a site that take bookings. */
  laneGroups(site: string): readonly { laneKind: string; direction: Direction }[] {
    return this.groups.get(site) ?? [];
  }

  async availability(query: AvailabilityQuery, at: number): Promise<{ from: number; to: number; windows: Places[] }> {
    const windowMs = this.windowMs;
    const from = Math.floor((query.from ?? at) / windowMs) * windowMs;
    const to = Math.ceil((query.to ?? from + dayMs) / windowMs) * windowMs;
    this.checkRange(from, to, 'to');
    this.checkBuilt(query.site, 'site');
    const groups = this.laneGroups(query.site).filter((g) => (query.laneKind === undefined || g.laneKind === query.laneKind) && (query.direction === undefined || g.direction === query.direction));
    if (groups.length === 0) this.noSuchGroup(query.site, 'laneKind', query.laneKind, query.direction);
    const windows: SlotWindow[] = [];
    for (let start = from; start < to; start += windowMs) {
      for (const group of groups) windows.push({ site: query.site, laneKind: group.laneKind, direction: group.direction, windowStart: start });
    }
    const read = await this.redis(() => this.store.availabilities(windows, at));
    return { from, to, windows: read.map((availability, i) => this.places(windows[i]!, availability)) };
  }

  async hold(caller: AccessRecord, request: Omit<HoldRequest, 'firm'>): Promise<{ booking: Booking; replayed: boolean }> {
    const started = performance.now();
    const firm = this.firmOf(caller, 'book a slot');
    this.checkBuilt(request.site, 'site');
    this.checkGroup(request, 'laneKind');
    if (request.windowStart > request.at + this.settings.horizonMs) {
      throw new InvalidInput([{ field: 'windowStart', reason: `at most ${this.settings.horizonMs / dayMs} days ahead (until ${vietnamIso(request.at + this.settings.horizonMs)})` }]);
    }
    return this.observing('hold', async () => {
      const outcome = await this.redis(() => this.store.hold({ ...request, firm }));
      this.observer.answered('hold', secondsSince(started));
      if (!outcome.ok) {
        const cap = outcome.refusal === 'firm-cap-reached' ? firmCap(await this.redis(() => this.store.firmRecord(firm)), this.store.rules) : 0;
        this.observer.ended('hold', 'refused', outcome.refusal);
        throw this.holdRefusal(outcome.refusal, request.windowStart, { bookingId: bookingIdOf(firm, request.idempotencyKey), cap });
      }
      if (outcome.change) await this.publisher.publish([outcome.change]);
      this.observer.ended('hold', outcome.replayed ? 'replayed' : 'held');
      return { booking: outcome.booking, replayed: outcome.replayed };
    });
  }

  async confirm(caller: AccessRecord, id: string, at: number): Promise<Booking> {
    this.firmOf(caller, 'confirm a booking');
    return this.act(caller, id, { type: 'confirm', at });
  }

  async cancel(caller: AccessRecord, id: string, at: number): Promise<Booking> {
    if (caller.role === 'display') throw new ForbiddenForRole(caller.role, `${caller.id} is a display token; cancelling needs the firm’s key or an operator token`);
    return this.act(caller, id, { type: 'cancel', at, by: caller.role === 'operator' ? 'operator' : 'firm' });
  }

  async booking(caller: AccessRecord, id: string, at: number): Promise<Booking> {
    const booking = await this.redis(() => this.store.booking(id, at));
    if (!booking || !this.mayRead(caller, booking)) throw new BookingNotFound(`no booking ${id}${caller.role === 'firm' ? ` of firm ${caller.firm}` : ''}`);
    return booking;
  }

  async bookings(caller: AccessRecord, query: BookingsQuery, at: number): Promise<{ bookings: Booking[]; truncated: boolean }> {
    const from = query.from ?? at - dayMs;
    const to = query.to ?? from + 7 * dayMs;
    this.checkRange(from, to, 'to');
    const limit = this.settings.maxBookings;
    let found: Booking[];
    if (caller.role === 'firm' || query.firm !== undefined) {
      if (caller.role === 'display') throw new ForbiddenForRole(caller.role, `${caller.id} is a display token; bookings are for their firm and operators`);
      if (caller.role === 'firm' && query.firm !== undefined && query.firm !== caller.firm) throw new ForbiddenForRole(caller.role, `the key of firm ${caller.firm} cannot list firm ${query.firm}’s bookings`);
      const firm = caller.role === 'firm' ? caller.firm! : query.firm!;
      found = await this.redis(() => this.store.firmBookings(firm, from, to, at, limit + 1));
      if (query.site !== undefined) found = found.filter((b) => b.site === query.site);
    } else {
      if (caller.role !== 'operator') throw new ForbiddenForRole(caller.role, `${caller.id} is a display token; bookings are for their firm and operators`);
      if (query.site === undefined) throw new InvalidInput([{ field: 'site', reason: 'operators list one site’s bookings (or one firm’s, with firm=)' }]);
      const windows: SlotWindow[] = [];
      const start = Math.ceil(from / this.windowMs) * this.windowMs;
      for (let windowStart = start; windowStart < to; windowStart += this.windowMs) {
        for (const group of this.laneGroups(query.site)) windows.push({ site: query.site, ...group, windowStart });
      }
      found = await this.redis(() => this.store.windowBookings(windows, limit + 1, at));
    }
    if (query.state !== undefined) found = found.filter((b) => b.state === query.state);
    return { bookings: found.slice(0, limit), truncated: found.length > limit };
  }

  async setWindow(caller: AccessRecord, override: WindowOverride, at: number): Promise<Places> {
    if (caller.role !== 'operator') throw new ForbiddenForRole(caller.role, `${caller.id} is a ${caller.role} token; changing a window needs an operator token`);
    this.checkBuilt(override.site, 'site');
    this.checkGroup(override, 'laneKind');
    if (override.windowStart % this.windowMs !== 0) throw this.holdRefusal('window-not-aligned', override.windowStart, {});
    if (override.capacity === undefined && override.closed === undefined) throw new InvalidInput([{ field: '', reason: 'say what changes: capacity, closed or both' }]);
    const changes: SlotChange[] = [];
    if (override.capacity !== undefined) changes.push(await this.redis(() => this.store.setCapacity(override, override.capacity!, at)));
    if (override.closed !== undefined) changes.push(await this.redis(() => this.store.setClosed(override, override.closed!, at)));
    await this.publisher.publish(changes);
    return this.places(override, await this.redis(() => this.store.availability(override, at)));
  }

  async firmRecord(caller: AccessRecord, firm: string): Promise<{ firm: string; decided: number; noShows: number; noShowRate: number; capPerWindow: number }> {
    if (caller.role === 'display' || (caller.role === 'firm' && caller.firm !== firm)) throw new ForbiddenForRole(caller.role, `${caller.id} cannot read firm ${firm}’s record`);
    const record = await this.redis(() => this.store.firmRecord(firm));
    return { firm, ...record, noShowRate: record.decided === 0 ? 0 : record.noShows / record.decided, capPerWindow: firmCap(record, this.store.rules) };
  }

  /** A firm registers a truck in its fleet (again: its details replaced, `created` false). */
  async registerTruck(caller: AccessRecord, registration: TruckRegistration, at: number): Promise<{ truck: FleetTruck; created: boolean }> {
    const firm = this.firmOf(caller, 'register a truck');
    if (!platePatterns[registration.country].test(registration.plate)) {
      throw new InvalidInput([{ field: 'plate', reason: `is not a ${registration.country === 'VN' ? 'Vietnamese (14C-123.45)' : 'Chinese (桂A12345)'} plate; country says ${registration.country}` }]);
    }
    // Checked before the registration: past its budget a firm learns nothing more of other firms' plates.
    const budget = this.store.rules.registrationRefusalsPerHour;
    const refused = (reason: RegistrationRefusal, inHour: number) => this.fleetObserver.registrationRefused({ firm, keyId: caller.id, reason, inHour, budget });
    const earlier = await this.redis(() => this.store.registrationRefusals(firm, at));
    if (earlier.count >= budget) {
      refused('over-budget', earlier.count);
      throw new RuleRefusal('registration-refusals-over-budget', `${earlier.count} registrations of the firm were refused plate-in-another-fleet in the last hour, as many as it may; it registers again from ${vietnamIso(earlier.freeAt)}. A truck another firm has moves by an operator’s transfer: ask the operations center`, {
        retryAfterSeconds: Math.max(1, Math.ceil((earlier.freeAt - at) / 1000)),
      });
    }
    const outcome = await this.redis(() => this.store.registerTruck(firm, registration, at));
    if (outcome.ok) return outcome;
    if (outcome.refusal === 'fleet-full') {
      refused('fleet-full', earlier.count);
      const limit = this.store.rules.maxFleetTrucks;
      throw new RuleRefusal('fleet-full', `the firm’s fleet has ${limit} trucks, as many as it may; remove one first (DELETE /v1/fleet/trucks/{plate})`, { limit });
    }
    refused('plate-in-another-fleet', await this.redis(() => this.store.countRegistrationRefusal(firm, at)));
    throw new RuleRefusal('plate-in-another-fleet', 'this truck is in another firm’s fleet; a truck moves between fleets only by an operator’s transfer: ask the operations center', { field: 'plate' });
  }

  /** A firm's trucks: a firm's key its own; operators name the firm. */
  async fleet(caller: AccessRecord, firm: string | undefined): Promise<FleetTruck[]> {
    if (caller.role === 'display') throw new ForbiddenForRole(caller.role, `${caller.id} is a display token; fleets are their firm’s and operators’`);
    if (caller.role === 'firm' && firm !== undefined && firm !== caller.firm) throw new ForbiddenForRole(caller.role, `the key of firm ${caller.firm} cannot list firm ${firm}’s fleet`);
    const whose = caller.role === 'firm' ? caller.firm : firm;
    if (whose === undefined) throw new InvalidInput([{ field: 'firm', reason: 'operators list one firm’s fleet: name it with firm=' }]);
    return this.redis(() => this.store.fleet(whose));
  }

  /** A firm takes a truck out of its fleet; another firm's truck is not found, like no truck. */
  async removeTruck(caller: AccessRecord, plate: string, at: number): Promise<void> {
    const firm = this.firmOf(caller, 'remove a truck');
    const outcome = await this.redis(() => this.store.removeTruck(firm, plate, at));
    if (outcome.ok) return;
    if (outcome.refusal === 'truck-not-in-fleet') throw new TruckNotFound(`no truck ${plate} in the fleet of firm ${firm}`);
    throw new RuleRefusal('truck-has-bookings', `truck ${plate} has a held or confirmed booking of the firm still ahead; cancel it first, or wait until it is checked in (GET /v1/bookings)`);
  }

  /**
   * Operators move a truck to another firm's fleet (one the access registry knows), once
   * the firm that has it holds or confirmed none of it still ahead.
   */
  async transferTruck(caller: AccessRecord, plate: string, toFirm: string, at: number): Promise<{ truck: FleetTruck; fromFirm: string }> {
    if (caller.role !== 'operator') throw new ForbiddenForRole(caller.role, `${caller.id} is a ${caller.role} token; moving a truck between fleets needs an operator token`);
    if (!this.settings.knownFirm(toFirm)) throw new RuleRefusal('unknown-firm', `no firm ${toFirm} has a key in the access registry; check the firm’s id (GET /v1/fleet/trucks?firm= lists a firm’s fleet)`, { field: 'toFirm' });
    const outcome = await this.redis(() => this.store.transferTruck(plate, toFirm, at));
    if (outcome.ok) return outcome;
    if (outcome.refusal === 'truck-not-in-fleet') throw new TruckNotFound(`no fleet has truck ${plate}`);
    if (outcome.refusal === 'truck-has-bookings') {
      const count = outcome.bookings === 1 ? 'a held or confirmed booking' : `${outcome.bookings} held or confirmed bookings`;
      throw new RuleRefusal('truck-has-bookings', `the firm whose fleet has truck ${plate} has ${count} of it still ahead; an operator can cancel them first (GET /v1/bookings?firm=…, DELETE /v1/bookings/{id}), then move the truck`, { bookings: outcome.bookings });
    }
    const limit = this.store.rules.maxFleetTrucks;
    throw new RuleRefusal('fleet-full', `firm ${toFirm}’s fleet has ${limit} trucks, as many as it may`, { limit, field: 'toFirm' });
  }

  /**
   * A truck of `plate` arrived at `site` (its arrival event): the confirmed booking of that
   * plate, site and direction whose window is nearest checks in (or is flagged late).
   */
  async arrive(plate: string, site: string, direction: Direction, at: number): Promise<Booking | undefined> {
    const rules = this.store.rules;
    const reach = this.windowMs + rules.toleranceMs + rules.lateGraceMs;
    const candidates = (await this.redis(() => this.store.plateBookings(plate, at - reach, at + reach, at)))
      .filter((b) => b.site === site && b.direction === direction && b.state === 'confirmed')
      .sort((a, b) => Math.abs(a.windowStart - at) - Math.abs(b.windowStart - at));
    return candidates[0] && this.system(candidates[0].id, { type: 'arrive', at });
  }

  /** A truck crossed the border line: its arrived booking at the site is completed. */
  async cross(plate: string, site: string, at: number): Promise<Booking | undefined> {
    const reach = this.windowMs + this.store.rules.toleranceMs + this.store.rules.lateGraceMs + dayMs;
    const arrived = (await this.redis(() => this.store.plateBookings(plate, at - reach, at + reach, at))).filter((b) => b.site === site && (b.state === 'checked-in' || b.state === 'late'));
    const booking = arrived.sort((a, b) => (b.arrivedAt ?? 0) - (a.arrivedAt ?? 0))[0];
    return booking && this.system(booking.id, { type: 'cross', at });
  }

  /** Lets time act on bookings that are due (holds end, no-shows); returns how many changed. */
  async sweep(at: number, limit: number): Promise<number> {
    const ids = await this.redis(() => this.store.due(at, limit));
    const changes: SlotChange[] = [];
    for (const id of ids) {
      const transition = await this.redis(() => this.store.act(id, { type: 'tick', at }));
      if (!transition) await this.redis(() => this.store.forgetDue(id));
      else if (transition.change) changes.push(transition.change);
    }
    await this.publisher.publish(changes);
    return changes.length;
  }

  private async system(id: string, action: BookingAction): Promise<Booking | undefined> {
    const transition = await this.redis(() => this.store.act(id, action));
    if (transition?.change) await this.publisher.publish([transition.change]);
    return transition?.ok ? transition.booking : undefined;
  }

  private async act(caller: AccessRecord, id: string, action: Extract<BookingAction, { type: BookingOperation }>): Promise<Booking> {
    const started = performance.now();
    const operation = action.type;
    return this.observing(operation, async () => {
      await this.booking(caller, id, action.at);
      const transition = await this.redis(() => this.store.act(id, action));
      if (!transition) throw new BookingNotFound(`no booking ${id}`);
      this.observer.answered(operation, secondsSince(started));
      // A refused action may still store what time did (an expired hold): publish that too.
      if (transition.change) await this.publisher.publish([transition.change]);
      if (!transition.ok) {
        this.observer.ended(operation, 'refused', transition.refusal);
        throw this.refusal(transition.refusal, transition.booking);
      }
      this.observer.ended(operation, operation === 'confirm' ? 'confirmed' : 'cancelled');
      return transition.booking;
    });
  }

  /** Runs a booking operation; Redis or Kafka not answering is one of its outcomes. */
  private async observing<T>(operation: BookingOperation, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StoreUnavailable) this.observer.ended(operation, 'unavailable');
      throw error;
    }
  }

  private refusal(refusal: BookingRefusal, booking: Booking): RuleRefusal {
    const cutoff = booking.windowStart - this.store.rules.cancelCutoffMs;
    const details: Record<BookingRefusal, string> = {
      'not-held': `booking ${booking.id} is ${booking.state}; only a held booking can be confirmed`,
      'hold-expired': `the hold of booking ${booking.id} expired at ${vietnamIso(booking.heldUntil)}; book the window again`,
      'not-cancellable': `booking ${booking.id} is ${booking.state}; only held or confirmed bookings can be cancelled`,
      'past-cancel-cutoff': `firms cancel up to ${this.store.rules.cancelCutoffMs / 60_000} minutes before the window (until ${vietnamIso(cutoff)}); ask the operations center`,
      'not-expected': `booking ${booking.id} is ${booking.state}; it expects no arrival`,
      'not-arrived': `booking ${booking.id} is ${booking.state}; its truck has not arrived`,
    };
    return new RuleRefusal(refusal, details[refusal], { booking });
  }

  /** A hold's refusal by the ledger, with what the caller needs to act on it. */
  private holdRefusal(refusal: HoldRefusal, windowStart: number, facts: { bookingId?: string; cap?: number }): RuleRefusal {
    const windowMs = this.windowMs;
    switch (refusal) {
      case 'window-not-aligned': {
        const earlier = windowStart - (windowStart % windowMs);
        const boundary = (ms: number) => `${vietnamIso(ms)} (${ms})`;
        return new RuleRefusal(refusal, `must be the start of a ${windowMs / 60_000}-minute window (a multiple of ${windowMs} ms); the nearest are ${boundary(earlier)} and ${boundary(earlier + windowMs)}`, { field: 'windowStart' });
      }
      case 'window-past':
        return new RuleRefusal(refusal, 'the window has ended; book a window that has not', { field: 'windowStart' });
      case 'idempotency-key-reused':
        return new RuleRefusal(refusal, `this Idempotency-Key already made booking ${facts.bookingId} for another slot or truck; use a new key for a new booking`, { field: 'idempotencyKey', bookingId: facts.bookingId });
      case 'window-full':
        return new RuleRefusal(refusal, 'no place is free in this window; GET /v1/slots lists the windows with free places');
      case 'window-closed':
        return new RuleRefusal(refusal, 'operators closed this window: no new holds; GET /v1/slots lists open ones');
      case 'firm-cap-reached':
        return new RuleRefusal(refusal, `the firm already holds ${facts.cap} place(s) in this window, its cap (anti-hoarding; halved while its no-show rate is over the limit: GET /v1/firms/me)`, { cap: facts.cap });
      case 'plate-not-in-fleet':
        return new RuleRefusal(refusal, 'this truck is not in the firm’s fleet: register it first (POST /v1/fleet/trucks); a truck in another firm’s fleet moves only by an operator’s transfer', { field: 'plate' });
      case 'plate-already-booked':
        return new RuleRefusal(refusal, 'this truck of the firm’s fleet already has a held or confirmed booking in this window (at any site, lane group or direction)');
    }
  }

  private mayRead(caller: AccessRecord, booking: Booking): boolean {
    return caller.role === 'operator' || (caller.role === 'firm' && caller.firm === booking.firm);
  }

  private firmOf(caller: AccessRecord, what: string): string {
    if (caller.role !== 'firm' || caller.firm === undefined) throw new ForbiddenForRole(caller.role, `${caller.id} is a ${caller.role} token; to ${what} use the firm’s API key`);
    return caller.firm;
  }

  /** A site being built has no windows: said as such, not as a site without lanes. */
  private checkBuilt(site: string, field: string): void {
    const known = this.catalog.site(site);
    if (known && sitePhase(known) === 'construction') {
      throw new RuleRefusal('site-under-construction', `${known.names.en} (${known.id}) is under construction: it takes no bookings until it opens, and no opening date is known`, { site: known.id, field });
    }
  }

  private checkGroup(window: Pick<SlotWindow, 'site' | 'laneKind' | 'direction'>, field: string): void {
    if (!this.laneGroups(window.site).some((g) => laneGroupOf({ site: window.site, ...g }) === laneGroupOf(window))) this.noSuchGroup(window.site, field, window.laneKind, window.direction);
  }

  private noSuchGroup(site: string, field: string, laneKind: string | undefined, direction: string | undefined): never {
    const known = this.laneGroups(site).map((g) => `${g.laneKind} ${g.direction}`);
    const asked = [laneKind, direction].filter(Boolean).join(' ');
    throw new InvalidInput([{ field, reason: `site ${site} has no bookable ${asked} lanes; it has: ${known.join(', ') || 'none'}` }]);
  }

  private checkRange(from: number, to: number, field: string): void {
    if (to <= from) throw new InvalidInput([{ field, reason: 'must be after from' }]);
    if (to - from > this.settings.maxRangeMs) throw new InvalidInput([{ field, reason: `at most ${this.settings.maxRangeMs / dayMs} days after from` }]);
  }

  private places(window: SlotWindow, availability: Places | { capacity: number; held: number; booked: number; free: number; closed: boolean }): Places {
    return { laneKind: window.laneKind, direction: window.direction, windowStart: window.windowStart, windowEnd: window.windowStart + this.windowMs, capacity: availability.capacity, held: availability.held, booked: availability.booked, free: availability.free, closed: availability.closed };
  }

  /** Redis unreachable or too slow: StoreUnavailable (a Lua script is all or nothing, so nothing is half made). */
  private async redis<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isDeskError(error) || !isRedisUnavailable(error)) throw error;
      throw new StoreUnavailable('redis', `the slot store (Redis) did not answer (${(error as Error).message}); nothing was changed that a retry with the same Idempotency-Key would not return`, 2);
    }
  }
}
