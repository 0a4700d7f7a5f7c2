import type { Redis, SlotAvailability, SlotMessage } from '@tower/shared';
import { applyBookingAction, elapse, noShowAt, placeHolding, type Booking, type BookingAction, type Transition } from '../domain/bookings.ts';
import {
  firmCap,
  newBooking,
  sameHoldRequest,
  windowKeyOf,
  type Availability,
  type FirmRecord,
  type HoldOutcome,
  type HoldRequest,
  type LedgerRules,
  type SlotWindow,
} from '../domain/ledger.ts';

/**
 * Live slot state in Redis, the same rules as `SlotLedger` (the reference model), made
 * atomic: a hold is one Lua script over its window (capacity, closure, every booking of
 * the window, the idempotency key), so however many requests race, no window is ever
 * given more places than it has. Later changes of a booking are compare-and-set: the
 * pure lifecycle function computes the new state, a script writes it only if the
 * booking is still what was read, and the change is retried otherwise.
 *
 * Every change is also appended, in the same script, to an outbox stream with the
 * window's places after it: the service publishes it to Kafka and deletes it, and a
 * relay publishes what a crashed instance left behind. So no change is ever made in
 * Redis without reaching `tower.slots.v1` (at least once: readers keep the newest
 * state per booking and the highest version per window).
 *
 * Keys (`{…}` is the window, a Redis Cluster hash tag; the indexes span windows, so
 * this store assumes one Redis node, like the alert store):
 *   slots:{w}:bookings   hash  booking id → booking JSON
 *   slots:{w}:meta       hash  capacity, closed (operator overrides), version
 *   slots:idem:<firm>|<key>    booking id of an Idempotency-Key
 *   slots:booking:<id>   the booking's window key
 *   slots:firm:<firm>    hash  decided, noShows
 *   slots:firm:<firm>:bookings  zset  booking ids by window start (a firm's list)
 *   slots:plate:<plate>  zset  booking ids by window start (check-in by plate)
 *   slots:due            zset  booking ids by when time next changes them (hold end, no-show)
 *   slots:outbox         stream  changes not yet acknowledged by Kafka
 * Window keys, bookings and idempotency keys expire `retentionMs` after the window
 * ends; the history stays in ClickHouse.
 */
const tally = `
local function tally(bookingsKey, metaKey, now, template)
  local meta = redis.call('HMGET', metaKey, 'capacity', 'closed')
  local capacity = tonumber(meta[1]) or template
  local held, booked = 0, 0
  for _, json in ipairs(redis.call('HVALS', bookingsKey)) do
    local b = cjson.decode(json)
    local state = b.state
    if state == 'held' and now >= b.heldUntil then state = 'expired' end
    if state == 'held' then held = held + 1
    elseif state ~= 'cancelled' and state ~= 'expired' then booked = booked + 1 end
  end
  local version = redis.call('HINCRBY', metaKey, 'version', 1)
  return cjson.encode({capacity = capacity, held = held, booked = booked, closed = meta[2] == '1', version = version})
end
`;

const scripts = {
  /**
   * KEYS: bookings, meta, idempotency, booking → window, firm's list, plate's list, due, outbox
   * ARGV: booking JSON, now, template capacity, firm cap, window key, expire at, prune lists before
   */
  hold: `
local existing = redis.call('GET', KEYS[3])
if existing then return {'replayed', existing} end
local meta = redis.call('HMGET', KEYS[2], 'capacity', 'closed')
if meta[2] == '1' then return {'refused', 'window-closed'} end
local capacity = tonumber(meta[1]) or tonumber(ARGV[3])
local now = tonumber(ARGV[2])
local new = cjson.decode(ARGV[1])
local held, booked, firmUsed = 0, 0, 0
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do
  local b = cjson.decode(json)
  local state = b.state
  if state == 'held' and now >= b.heldUntil then state = 'expired' end
  if state ~= 'cancelled' and state ~= 'expired' then
    if state == 'held' then held = held + 1 else booked = booked + 1 end
    if b.firm == new.firm then firmUsed = firmUsed + 1 end
    if b.plate == new.plate and (state == 'held' or state == 'confirmed') then return {'refused', 'plate-already-booked'} end
  end
end
if capacity - held - booked <= 0 then return {'refused', 'window-full'} end
if firmUsed >= tonumber(ARGV[4]) then return {'refused', 'firm-cap-reached'} end
local expireAt = ARGV[6]
redis.call('HSET', KEYS[1], new.id, ARGV[1])
redis.call('PEXPIREAT', KEYS[1], expireAt)
redis.call('SET', KEYS[3], new.id, 'PXAT', expireAt)
redis.call('SET', KEYS[4], ARGV[5], 'PXAT', expireAt)
for _, list in ipairs({KEYS[5], KEYS[6]}) do
  redis.call('ZADD', list, new.windowStart, new.id)
  redis.call('ZREMRANGEBYSCORE', list, '-inf', '(' .. ARGV[7])
  redis.call('PEXPIREAT', list, expireAt)
end
redis.call('ZADD', KEYS[7], new.heldUntil, new.id)
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('PEXPIREAT', KEYS[2], expireAt)
local availability = cjson.encode({capacity = capacity, held = held + 1, booked = booked, closed = false, version = version})
local entry = redis.call('XADD', KEYS[8], '*', 'window', ARGV[5], 'availability', availability, 'booking', ARGV[1])
return {'held', availability, entry}`,
  /**
   * Writes a booking's new state only if it is still what was read; counts an outcome in
   * the firm's record; moves the booking in the due index.
   * KEYS: bookings, meta, firm record, due, outbox
   * ARGV: id, expected JSON, new JSON, outcome ('' | arrived | no-show), due ('' removes), now, template capacity, window key
   */
  update: `${tally}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return {0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[3], 'decided', 1)
  if ARGV[4] == 'no-show' then redis.call('HINCRBY', KEYS[3], 'noShows', 1) end
end
if ARGV[5] == '' then redis.call('ZREM', KEYS[4], ARGV[1]) else redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
local availability = tally(KEYS[1], KEYS[2], tonumber(ARGV[6]), tonumber(ARGV[7]))
local entry = redis.call('XADD', KEYS[5], '*', 'window', ARGV[8], 'availability', availability, 'booking', ARGV[3])
return {1, availability, entry}`,
  /**
   * An operator's override of a window (capacity or closed).
   * KEYS: bookings, meta, outbox; ARGV: field, value, now, template capacity, window key, expire at
   */
  override: `${tally}
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local availability = tally(KEYS[1], KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
local entry = redis.call('XADD', KEYS[3], '*', 'window', ARGV[5], 'availability', availability)
return {availability, entry}`,
};

const keys = {
  bookings: (w: string) => `slots:{${w}}:bookings`,
  meta: (w: string) => `slots:{${w}}:meta`,
  idempotency: (firm: string, key: string) => `slots:idem:${firm}|${key}`,
  bookingWindow: (id: string) => `slots:booking:${id}`,
  firmRecord: (firm: string) => `slots:firm:${firm}`,
  firmBookings: (firm: string) => `slots:firm:${firm}:bookings`,
  plateBookings: (plate: string) => `slots:plate:${plate}`,
  due: 'slots:due',
  outbox: 'slots:outbox',
};

/** A change as it waits in the outbox: the messages for `tower.slots.v1`. */
export interface SlotChange {
  /** The outbox entry (a stream id): deleted once Kafka has the messages. */
  entryId: string;
  messages: SlotMessage[];
}

export type StoredHold = HoldOutcome & { change?: SlotChange };
export type StoredTransition = Transition & { change?: SlotChange };

interface TalliedWindow {
  capacity: number;
  held: number;
  booked: number;
  closed: boolean;
  version: number;
}

function windowOfKey(key: string): SlotWindow {
  const [site = '', laneKind = '', direction = '', start = ''] = key.split('|');
  return { site, laneKind, direction: direction as SlotWindow['direction'], windowStart: Number(start) };
}

const outcomeOf = (before: Booking, after: Booking) => {
  const decided = (b: Booking) => b.state === 'no-show' || b.arrivedAt !== null;
  if (decided(before) || !decided(after)) return '';
  return after.state === 'no-show' ? 'no-show' : 'arrived';
};

export interface SlotStoreSettings {
  rules: LedgerRules;
  /** The planned capacity of a window (the capacity plan); operators override it per window. */
  templateCapacity: (window: SlotWindow) => number;
  /** How long a window's bookings stay in Redis after it ends (default 7 days). */
  retentionMs?: number;
}

export class RedisSlotStore {
  readonly rules: LedgerRules;
  private readonly templateCapacity: (window: SlotWindow) => number;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    settings: SlotStoreSettings,
  ) {
    this.rules = settings.rules;
    this.templateCapacity = settings.templateCapacity;
    this.retentionMs = settings.retentionMs ?? 7 * 86_400_000;
  }

  async hold(request: HoldRequest): Promise<StoredHold> {
    const idempotency = keys.idempotency(request.firm, request.idempotencyKey);
    const replayed = await this.redis.get(idempotency);
    if (replayed) return this.replay(replayed, request);
    if (request.windowStart % this.rules.windowMs !== 0) return { ok: false, refusal: 'window-not-aligned' };
    if (request.at >= request.windowStart + this.rules.windowMs) return { ok: false, refusal: 'window-past' };
    const window = windowKeyOf(request);
    const booking = newBooking(request, this.rules);
    const cap = firmCap(await this.firmRecord(request.firm), this.rules);
    const json = JSON.stringify(booking);
    const [verdict, detail, entryId] = (await this.redis.eval(
      scripts.hold,
      8,
      keys.bookings(window),
      keys.meta(window),
      idempotency,
      keys.bookingWindow(booking.id),
      keys.firmBookings(request.firm),
      keys.plateBookings(request.plate),
      keys.due,
      keys.outbox,
      json,
      String(request.at),
      String(this.templateCapacity(request)),
      String(cap),
      window,
      String(booking.windowEnd + this.retentionMs),
      String(request.at - this.retentionMs),
    )) as [string, string, string?];
    if (verdict === 'refused') return { ok: false, refusal: detail as Extract<HoldOutcome, { ok: false }>['refusal'] };
    if (verdict === 'replayed') return this.replay(detail, request);
    return { ok: true, booking, replayed: false, change: this.change(entryId!, window, detail, json) };
  }

  /** Applies an action; undefined for an unknown booking. Retries when another change won the race. */
  async act(id: string, action: BookingAction): Promise<StoredTransition | undefined> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const read = await this.read(id);
      if (!read) return undefined;
      const transition = applyBookingAction(read.booking, action, this.rules);
      const json = JSON.stringify(transition.booking);
      if (json === read.json) return transition;
      const written = await this.write(read, transition.booking, json, action.at);
      if (written) return { ...transition, change: written };
    }
    throw new Error(`booking ${id} kept changing under ${action.type}; try again`);
  }

  /** The booking as time has made it at `at`; a read: only actions (a `tick` too) store it. */
  async booking(id: string, at: number): Promise<Booking | undefined> {
    const read = await this.read(id);
    return read && elapse(read.booking, at, this.rules);
  }

  async availability(window: SlotWindow, at: number): Promise<Availability> {
    const [first] = await this.windows([window], at);
    return first!.availability;
  }

  /** Places and bookings of many windows in one round trip, as time has made them at `at`. */
  async windows(windows: readonly SlotWindow[], at: number): Promise<{ window: SlotWindow; availability: Availability; bookings: Booking[] }[]> {
    const pipeline = this.redis.pipeline();
    for (const window of windows) {
      const key = windowKeyOf(window);
      pipeline.hmget(keys.meta(key), 'capacity', 'closed').hvals(keys.bookings(key));
    }
    const replies = (await pipeline.exec()) ?? [];
    return windows.map((window, i) => {
      const [metaError, meta] = replies[2 * i] as [Error | null, (string | null)[]];
      const [valuesError, values] = replies[2 * i + 1] as [Error | null, string[]];
      if (metaError ?? valuesError) throw metaError ?? valuesError;
      const capacity = meta[0] !== null ? Number(meta[0]) : this.templateCapacity(window);
      const closed = meta[1] === '1';
      const bookings = values.map((json) => elapse(JSON.parse(json) as Booking, at, this.rules));
      let held = 0;
      let booked = 0;
      for (const booking of bookings) {
        if (booking.state === 'held') held += 1;
        else if (placeHolding.has(booking.state)) booked += 1;
      }
      return { window, bookings, availability: { capacity, held, booked, free: closed ? 0 : Math.max(0, capacity - held - booked), closed } };
    });
  }

  /** A firm's bookings whose window starts in [from, to), as time has made them at `at`, by window start. */
  async firmBookings(firm: string, from: number, to: number, at: number, limit: number): Promise<Booking[]> {
    const ids = await this.redis.zrangebyscore(keys.firmBookings(firm), from, `(${to}`, 'LIMIT', 0, limit);
    return this.bookingsById(ids, at);
  }

  /** Bookings of a plate whose window starts in [from, to). */
  async plateBookings(plate: string, from: number, to: number, at: number): Promise<Booking[]> {
    return this.bookingsById(await this.redis.zrangebyscore(keys.plateBookings(plate), from, `(${to}`), at);
  }

  /** Bookings that time changes by `at` (holds to expire, no-shows to mark), oldest first. */
  async due(at: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(keys.due, '-inf', at, 'LIMIT', 0, limit);
  }

  /** Drops a due entry whose booking is gone (expired from Redis). */
  async forgetDue(id: string): Promise<void> {
    await this.redis.zrem(keys.due, id);
  }

  async setCapacity(window: SlotWindow, capacity: number, at: number): Promise<SlotChange> {
    return this.override(window, 'capacity', String(capacity), at);
  }

  async setClosed(window: SlotWindow, closed: boolean, at: number): Promise<SlotChange> {
    return this.override(window, 'closed', closed ? '1' : '0', at);
  }

  async firmRecord(firm: string): Promise<FirmRecord> {
    const [decided, noShows] = await this.redis.hmget(keys.firmRecord(firm), 'decided', 'noShows');
    return { decided: Number(decided ?? 0), noShows: Number(noShows ?? 0) };
  }

  /** Outbox entries made before `before` (a publisher crashed or Kafka was down), oldest first. */
  async unpublished(before: number, limit: number): Promise<SlotChange[]> {
    const entries = await this.redis.xrange(keys.outbox, '-', String(before), 'COUNT', limit);
    return entries.map(([entryId, fields]) => {
      const field = (name: string) => {
        const index = fields.indexOf(name);
        return index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
      };
      return this.change(entryId, field('window') ?? '', field('availability') ?? '{}', field('booking'));
    });
  }

  /** Forgets outbox entries Kafka has acknowledged. */
  async published(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length > 0) await this.redis.xdel(keys.outbox, ...entryIds);
  }

  async outboxLength(): Promise<number> {
    return this.redis.xlen(keys.outbox);
  }

  private async replay(id: string, request: HoldRequest): Promise<StoredHold> {
    const booking = await this.booking(id, request.at);
    if (!booking) throw new Error(`idempotency key of booking ${id} outlived it`);
    return sameHoldRequest(booking, request) ? { ok: true, booking, replayed: true } : { ok: false, refusal: 'idempotency-key-reused' };
  }

  private async override(window: SlotWindow, field: string, value: string, at: number): Promise<SlotChange> {
    const key = windowKeyOf(window);
    const [availability, entryId] = (await this.redis.eval(
      scripts.override,
      3,
      keys.bookings(key),
      keys.meta(key),
      keys.outbox,
      field,
      value,
      String(at),
      String(this.templateCapacity(window)),
      key,
      String(window.windowStart + this.rules.windowMs + this.retentionMs),
    )) as [string, string];
    return this.change(entryId, key, availability, undefined);
  }

  private change(entryId: string, windowKey: string, tallied: string, bookingJson: string | undefined): SlotChange {
    const window = windowOfKey(windowKey);
    const counts = JSON.parse(tallied) as TalliedWindow;
    const availability: SlotAvailability = {
      site: window.site,
      laneKind: window.laneKind,
      direction: window.direction,
      windowStart: window.windowStart,
      windowEnd: window.windowStart + this.rules.windowMs,
      capacity: counts.capacity,
      held: counts.held,
      booked: counts.booked,
      free: counts.closed ? 0 : Math.max(0, counts.capacity - counts.held - counts.booked),
      closed: counts.closed,
      version: counts.version,
    };
    const messages: SlotMessage[] = [{ kind: 'availability', availability }];
    if (bookingJson !== undefined) messages.unshift({ kind: 'booking', booking: JSON.parse(bookingJson) as Booking });
    return { entryId, messages };
  }

  private async bookingsById(ids: readonly string[], at: number): Promise<Booking[]> {
    if (ids.length === 0) return [];
    const windows = await this.redis.mget(...ids.map(keys.bookingWindow));
    const pipeline = this.redis.pipeline();
    ids.forEach((id, i) => pipeline.hget(keys.bookings(windows[i] ?? ''), id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([error, json]) => {
      if (error) throw error;
      return typeof json === 'string' ? [elapse(JSON.parse(json) as Booking, at, this.rules)] : [];
    });
  }

  private async read(id: string): Promise<{ window: string; json: string; booking: Booking } | undefined> {
    const window = await this.redis.get(keys.bookingWindow(id));
    if (!window) return undefined;
    const json = await this.redis.hget(keys.bookings(window), id);
    return json ? { window, json, booking: JSON.parse(json) as Booking } : undefined;
  }

  /** When time next changes a booking on its own: a hold's end, a confirmed booking's no-show. */
  private dueOf(booking: Booking): string {
    if (booking.state === 'held') return String(booking.heldUntil);
    if (booking.state === 'confirmed') return String(noShowAt(booking, this.rules) + 1);
    return '';
  }

  private async write(read: { window: string; json: string; booking: Booking }, next: Booking, json: string, at: number): Promise<SlotChange | undefined> {
    const [written, tallied, entryId] = (await this.redis.eval(
      scripts.update,
      5,
      keys.bookings(read.window),
      keys.meta(read.window),
      keys.firmRecord(next.firm),
      keys.due,
      keys.outbox,
      next.id,
      read.json,
      json,
      outcomeOf(read.booking, next),
      this.dueOf(next),
      String(at),
      String(this.templateCapacity(next)),
      read.window,
    )) as [number, string?, string?];
    return written === 1 ? this.change(entryId!, read.window, tallied!, json) : undefined;
  }
}
