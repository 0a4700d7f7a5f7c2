import { createHash, randomUUID } from 'node:crypto';
import type { Redis, SlotAvailability, SlotMessage } from '@tower/shared';
import { applyBookingAction, elapse, noShowAt, placeHolding, type Booking, type BookingAction, type Transition } from '../domain/bookings.ts';
import { countryOf, fleetTruck, type AdoptionOutcome, type FleetTruck, type RegisterOutcome, type RemoveOutcome, type TransferOutcome, type TruckRegistration } from '../domain/fleet.ts';
import {
  newBooking,
  sameHoldRequest,
  truckOf,
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
 * this store assumes one Redis node, like the alert store: the hold script writes the
 * idempotency key and reads the truck index, both outside the window's tag):
 *   slots:{w}:bookings   hash  booking id → booking JSON
 *   slots:{w}:meta       hash  capacity, closed (operator overrides), version, booked, booked:<firm>
 *   slots:{w}:holds      zset  live holds by their end (and slots:{w}:holds:<firm> per firm)
 *   slots:trucks:<start> hash  truck → `<booking id>|<until>`: the truck's held or confirmed
 *                              booking in the windows starting then, at every site, lane group
 *                              and direction (a truck is in one place at a time; every window has
 *                              the same length and alignment, so windows that overlap start
 *                              together); it blocks the plate until `until` (the hold's end, a
 *                              confirmed booking's no-show) and leaves when the booking does
 *   slots:idem:<firm>|<key>    booking id of an Idempotency-Key
 *   slots:booking:<id>   the booking's window key
 *   slots:firm:<firm>    hash  decided, noShows
 *   slots:firm:<firm>:bookings  zset  booking ids by window start (a firm's list)
 *   slots:plate:<plate>  zset  booking ids by window start (check-in by plate)
 *   slots:due            zset  booking ids by when time next changes them (hold end, no-show)
 *   slots:outbox         stream  changes not yet acknowledged by Kafka
 *   slots:fleet:<firm>   hash  plate key → truck JSON: the firm's fleet
 *   slots:truck-owner:<plate key>   the firm whose fleet has the truck (the hold checks it first)
 *   slots:fleet:<firm>:live:<plate key>  zset  the firm's held or confirmed bookings of the truck,
 *                              by how long they block it (as the truck index): a truck with one
 *                              still ahead is not removed from the fleet
 *   slots:fleet-refusals:<firm>  zset  the firm's registrations refused plate-in-another-fleet in the last hour
 *   slots:migrations:fleet-owners  when the trucks booked before fleets were adopted (once)
 * Window keys, bookings and idempotency keys expire `retentionMs` after the window
 * ends; the history stays in ClickHouse. Fleets do not expire.
 */
/** A Lua script run by its SHA-1 (loaded again when Redis does not know it, e.g. after a restart). */
export class Script {
  readonly sha: string;

  constructor(readonly body: string) {
    this.sha = createHash('sha1').update(body).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.body, keys.length, ...keys, ...args);
    }
  }
}

const tally = `
local function tally(holdsKey, metaKey, now, template)
  local meta = redis.call('HMGET', metaKey, 'capacity', 'closed', 'booked')
  local capacity = tonumber(meta[1]) or template
  local held = redis.call('ZCOUNT', holdsKey, '(' .. now, '+inf')
  local version = redis.call('HINCRBY', metaKey, 'version', 1)
  return cjson.encode({capacity = capacity, held = held, booked = tonumber(meta[3]) or 0, closed = meta[2] == '1', version = version})
end
`;

/**
 * The scripts keep counts instead of reading every booking of the window: live holds in
 * a sorted set by their end (a hold past its end stops counting by itself, before the
 * sweeper marks it expired), places booked in a counter, per window and per firm, and
 * the booking that holds each truck at that time. So a hold costs the same with 3 or
 * 300 bookings.
 */
const scripts = {
  /**
   * KEYS: 1 bookings, 2 meta, 3 idempotency, 4 booking → window, 5 firm's list, 6 plate's list, 7 due, 8 outbox,
   *       9 window holds, 10 firm's window holds, 11 trucks at the window's start, 12 firm record,
   *       13 the truck's owner, 14 the firm's live bookings of the truck
   * ARGV: 1 booking JSON, 2 now, 3 template capacity, 4 window key, 5 expire at, 6 prune lists before,
   *       7 refusal found before ('' or window-not-aligned / window-past), 8 cap, 9 no-show rate limit,
   *       10 decided needed, 11 cap factor, 12 the hold's end, 13 the truck (plate without separators)
   */
  hold: new Script(`
local existing = redis.call('GET', KEYS[3])
if existing then return {'replayed', existing} end
if ARGV[7] ~= '' then return {'refused', ARGV[7]} end
local new = cjson.decode(ARGV[1])
if redis.call('GET', KEYS[13]) ~= new.firm then return {'refused', 'plate-not-in-fleet'} end
local meta = redis.call('HMGET', KEYS[2], 'capacity', 'closed', 'booked')
if meta[2] == '1' then return {'refused', 'window-closed'} end
local capacity = tonumber(meta[1]) or tonumber(ARGV[3])
local now = tonumber(ARGV[2])
local truck = redis.call('HGET', KEYS[11], ARGV[13])
if truck and now < tonumber(string.match(truck, '|(%d+)$')) then return {'refused', 'plate-already-booked'} end
local held = redis.call('ZCOUNT', KEYS[9], '(' .. now, '+inf')
local booked = tonumber(meta[3]) or 0
if capacity - held - booked <= 0 then return {'refused', 'window-full'} end
local record = redis.call('HMGET', KEYS[12], 'decided', 'noShows')
local decided, noShows = tonumber(record[1]) or 0, tonumber(record[2]) or 0
local cap = tonumber(ARGV[8])
if decided >= tonumber(ARGV[10]) and noShows / decided > tonumber(ARGV[9]) then cap = math.max(1, math.floor(cap * tonumber(ARGV[11]))) end
local firmUsed = redis.call('ZCOUNT', KEYS[10], '(' .. now, '+inf') + (tonumber(redis.call('HGET', KEYS[2], 'booked:' .. new.firm)) or 0)
if firmUsed >= cap then return {'refused', 'firm-cap-reached'} end
local expireAt = ARGV[5]
redis.call('HSET', KEYS[1], new.id, ARGV[1])
redis.call('SET', KEYS[3], new.id, 'PXAT', expireAt)
redis.call('SET', KEYS[4], ARGV[4], 'PXAT', expireAt)
redis.call('ZADD', KEYS[9], new.heldUntil, new.id)
redis.call('ZADD', KEYS[10], new.heldUntil, new.id)
redis.call('HSET', KEYS[11], ARGV[13], new.id .. '|' .. ARGV[12])
redis.call('ZREMRANGEBYSCORE', KEYS[14], '-inf', now)
redis.call('ZADD', KEYS[14], ARGV[12], new.id)
for _, key in ipairs({KEYS[1], KEYS[9], KEYS[10], KEYS[11]}) do redis.call('PEXPIREAT', key, expireAt) end
for _, list in ipairs({KEYS[5], KEYS[6]}) do
  redis.call('ZADD', list, new.windowStart, new.id)
  redis.call('ZREMRANGEBYSCORE', list, '-inf', '(' .. ARGV[6])
  redis.call('PEXPIREAT', list, expireAt)
end
redis.call('ZADD', KEYS[7], new.heldUntil, new.id)
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('PEXPIREAT', KEYS[2], expireAt)
local availability = cjson.encode({capacity = capacity, held = held + 1, booked = booked, closed = false, version = version})
local entry = redis.call('XADD', KEYS[8], '*', 'window', ARGV[4], 'availability', availability, 'booking', ARGV[1])
return {'held', availability, entry}`),
  /**
   * Writes a booking's new state only if it is still what was read; keeps the window's
   * counts (a hold that ends leaves the holds; a booked place counts once); counts an
   * outcome in the firm's record; moves the booking in the due index and, if it holds
   * its truck, in the truck index (its due time is how long it blocks the plate: a hold's
   * end, a confirmed booking's no-show; none once checked in, cancelled, expired…). A
   * newer booking of the plate, made once this one's hold lapsed, keeps the truck.
   * KEYS: 1 bookings, 2 meta, 3 firm record, 4 due, 5 outbox, 6 window holds, 7 firm's window holds, 8 trucks,
   *       9 the firm's live bookings of the truck
   * ARGV: 1 id, 2 expected JSON, 3 new JSON, 4 outcome ('' | arrived | no-show), 5 due ('' removes), 6 now,
   *       7 template capacity, 8 window key, 9 hold ended (1/0), 10 booked change (-1, 0, 1), 11 firm, 12 truck
   */
  update: new Script(`${tally}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return {0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[3], 'decided', 1)
  if ARGV[4] == 'no-show' then redis.call('HINCRBY', KEYS[3], 'noShows', 1) end
end
for _, index in ipairs({KEYS[4], KEYS[9]}) do
  if ARGV[5] == '' then redis.call('ZREM', index, ARGV[1]) else redis.call('ZADD', index, ARGV[5], ARGV[1]) end
end
local truck = redis.call('HGET', KEYS[8], ARGV[12])
if truck and string.sub(truck, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  if ARGV[5] == '' then redis.call('HDEL', KEYS[8], ARGV[12]) else redis.call('HSET', KEYS[8], ARGV[12], ARGV[1] .. '|' .. ARGV[5]) end
end
if ARGV[9] == '1' then
  redis.call('ZREM', KEYS[6], ARGV[1])
  redis.call('ZREM', KEYS[7], ARGV[1])
end
if ARGV[10] ~= '0' then
  redis.call('HINCRBY', KEYS[2], 'booked', ARGV[10])
  redis.call('HINCRBY', KEYS[2], 'booked:' .. ARGV[11], ARGV[10])
end
local availability = tally(KEYS[6], KEYS[2], tonumber(ARGV[6]), tonumber(ARGV[7]))
local entry = redis.call('XADD', KEYS[5], '*', 'window', ARGV[8], 'availability', availability, 'booking', ARGV[3])
return {1, availability, entry}`),
  /**
   * An operator's override of a window (capacity or closed).
   * KEYS: window holds, meta, outbox; ARGV: field, value, now, template capacity, window key, expire at
   */
  override: new Script(`${tally}
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local availability = tally(KEYS[1], KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
local entry = redis.call('XADD', KEYS[3], '*', 'window', ARGV[5], 'availability', availability)
return {availability, entry}`),
  /**
   * A firm registers a truck: refused when another firm's fleet has it, or when the fleet
   * is full; registered again by its owner, its details are replaced and `registeredAt`
   * kept (the truck JSON ends with it).
   * KEYS: 1 the truck's owner, 2 the firm's fleet; ARGV: 1 firm, 2 plate key, 3 truck JSON, 4 most trucks
   */
  register: new Script(`
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return {'refused', 'plate-in-another-fleet'} end
local stored = redis.call('HGET', KEYS[2], ARGV[2])
if not stored and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return {'refused', 'fleet-full'} end
local truck = ARGV[3]
local kept = stored and string.match(stored, '"registeredAt":%d+}$')
if kept then truck = (string.gsub(truck, '"registeredAt":%d+}$', kept)) end
redis.call('HSET', KEYS[2], ARGV[2], truck)
redis.call('SET', KEYS[1], ARGV[1])
return {stored and 'updated' or 'created', truck}`),
  /**
   * A firm takes a truck out of its fleet unless one of its bookings of it is still held
   * or confirmed. KEYS: 1 the truck's owner, 2 the firm's fleet, 3 its live bookings of the truck;
   * ARGV: 1 firm, 2 plate key, 3 now
   */
  remove: new Script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'truck-not-in-fleet' end
if redis.call('ZCOUNT', KEYS[3], '(' .. ARGV[3], '+inf') > 0 then return 'truck-has-bookings' end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1], KEYS[3])
return 'removed'`),
  /**
   * An operator moves a truck from the fleet of the firm read as its owner (`moved` when
   * that changed since: read again) to another's, once that firm holds or confirmed none of
   * it still ahead. An owner whose fleet lacks the truck (a hand repair or a partial
   * restore) is as no fleet having it. KEYS: 1 the truck's owner, 2 the owner's fleet,
   * 3 the new owner's fleet, 4 the owner's live bookings of the truck;
   * ARGV: 1 plate key, 2 owner read, 3 new owner, 4 now, 5 most trucks
   */
  transfer: new Script(`
local owner = redis.call('GET', KEYS[1])
if not owner then return {'refused', 'truck-not-in-fleet'} end
if owner ~= ARGV[2] then return {'moved'} end
local truck = redis.call('HGET', KEYS[2], ARGV[1])
if not truck then return {'refused', 'truck-not-in-fleet'} end
if ARGV[2] == ARGV[3] then return {'transferred', truck} end
local live = redis.call('ZCOUNT', KEYS[4], '(' .. ARGV[4], '+inf')
if live > 0 then return {'refused', 'truck-has-bookings', live} end
if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[5]) then return {'refused', 'fleet-full'} end
truck = (string.gsub(truck, '"registeredAt":%d+}$', '"registeredAt":' .. ARGV[4] .. '}'))
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], truck)
redis.call('SET', KEYS[1], ARGV[3])
return {'transferred', truck}`),
  /**
   * A live booking made before fleets existed: its truck joins the booking firm's fleet
   * when no firm has it (beyond the fleet's cap if need be: the booking stands), and the
   * booking counts among the firm's live bookings of the truck (so removal and transfer
   * wait for it). KEYS: 1 the truck's owner, 2 the firm's fleet, 3 its live bookings of the truck;
   * ARGV: 1 firm, 2 plate key, 3 truck JSON, 4 booking id, 5 how long it blocks the truck
   */
  adopt: new Script(`
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 'claimed' end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
if owner then return 'owned' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3])
return 'registered'`),
};

const keys = {
  bookings: (w: string) => `slots:{${w}}:bookings`,
  meta: (w: string) => `slots:{${w}}:meta`,
  holds: (w: string) => `slots:{${w}}:holds`,
  firmHolds: (w: string, firm: string) => `slots:{${w}}:holds:${firm}`,
  trucks: (windowStart: number) => `slots:trucks:${windowStart}`,
  idempotency: (firm: string, key: string) => `slots:idem:${firm}|${key}`,
  bookingWindow: (id: string) => `slots:booking:${id}`,
  firmRecord: (firm: string) => `slots:firm:${firm}`,
  firmBookings: (firm: string) => `slots:firm:${firm}:bookings`,
  plateBookings: (plate: string) => `slots:plate:${truckOf(plate)}`,
  fleet: (firm: string) => `slots:fleet:${firm}`,
  truckOwner: (plate: string) => `slots:truck-owner:${truckOf(plate)}`,
  liveBookings: (firm: string, plate: string) => `slots:fleet:${firm}:live:${truckOf(plate)}`,
  registrationRefusals: (firm: string) => `slots:fleet-refusals:${firm}`,
  due: 'slots:due',
  /** Set once the trucks booked before fleets existed were adopted (when, ms). */
  adopted: 'slots:migrations:fleet-owners',
  outbox: 'slots:outbox',
};

const hourMs = 3_600_000;

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
    const window = windowKeyOf(request);
    const booking = newBooking(request, this.rules);
    const json = JSON.stringify(booking);
    // Checks of the request alone; the script answers a replay before them, as the model does.
    const refusal = request.windowStart % this.rules.windowMs !== 0 ? 'window-not-aligned' : request.at >= request.windowStart + this.rules.windowMs ? 'window-past' : '';
    const { rules } = this;
    const [verdict, detail, entryId] = (await scripts.hold.run(
      this.redis,
      [
        keys.bookings(window),
        keys.meta(window),
        keys.idempotency(request.firm, request.idempotencyKey),
        keys.bookingWindow(booking.id),
        keys.firmBookings(request.firm),
        keys.plateBookings(request.plate),
        keys.due,
        keys.outbox,
        keys.holds(window),
        keys.firmHolds(window, request.firm),
        keys.trucks(request.windowStart),
        keys.firmRecord(request.firm),
        keys.truckOwner(request.plate),
        keys.liveBookings(request.firm, request.plate),
      ],
      [
        json,
        String(request.at),
        String(this.templateCapacity(request)),
        window,
        String(booking.windowEnd + this.retentionMs),
        String(request.at - this.retentionMs),
        refusal,
        String(rules.maxPerFirmPerWindow),
        String(rules.noShowRateLimit),
        String(rules.noShowMinDecided),
        String(rules.noShowCapFactor),
        String(booking.heldUntil),
        truckOf(request.plate),
      ],
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
    const [first] = await this.availabilities([window], at);
    return first!;
  }

  /** Places of many windows in one round trip, as time has made them at `at` (holds past their end do not count). */
  async availabilities(windows: readonly SlotWindow[], at: number): Promise<Availability[]> {
    const pipeline = this.redis.pipeline();
    for (const window of windows) {
      const key = windowKeyOf(window);
      pipeline.hmget(keys.meta(key), 'capacity', 'closed', 'booked').zcount(keys.holds(key), `(${at}`, '+inf');
    }
    const replies = (await pipeline.exec()) ?? [];
    return windows.map((window, i) => {
      const [metaError, meta] = replies[2 * i] as [Error | null, (string | null)[]];
      const [heldError, held] = replies[2 * i + 1] as [Error | null, number];
      if (metaError ?? heldError) throw metaError ?? heldError;
      const capacity = meta[0] !== null ? Number(meta[0]) : this.templateCapacity(window);
      const closed = meta[1] === '1';
      const booked = Number(meta[2] ?? 0);
      return { capacity, held, booked, free: closed ? 0 : Math.max(0, capacity - held - booked), closed };
    });
  }

  /**
   * The bookings of many windows (at most `limit`, window by window), as time has made
   * them at `at`; within a window in the order they were made.
   */
  async windowBookings(windows: readonly SlotWindow[], limit: number, at: number): Promise<Booking[]> {
    const found: Booking[] = [];
    for (let i = 0; i < windows.length && found.length < limit; i += 50) {
      const pipeline = this.redis.pipeline();
      for (const window of windows.slice(i, i + 50)) pipeline.hvals(keys.bookings(windowKeyOf(window)));
      for (const [error, values] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const bookings = (values as string[]).map((json) => elapse(JSON.parse(json) as Booking, at, this.rules));
        found.push(...bookings.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)));
      }
    }
    return found.slice(0, limit);
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

  /** A firm registers a truck (again: its details replaced); refused when another firm's fleet has it or its own is full. */
  async registerTruck(firm: string, registration: TruckRegistration, at: number): Promise<RegisterOutcome> {
    const truck = fleetTruck(registration, at);
    const [verdict, detail] = (await scripts.register.run(this.redis, [keys.truckOwner(truck.plate), keys.fleet(firm)], [firm, truck.plateKey, JSON.stringify(truck), String(this.rules.maxFleetTrucks)])) as [string, string];
    if (verdict === 'refused') return { ok: false, refusal: detail as Extract<RegisterOutcome, { ok: false }>['refusal'] };
    return { ok: true, truck: JSON.parse(detail) as FleetTruck, created: verdict === 'created' };
  }

  /** A firm takes a truck out of its fleet, unless one of its own bookings of the truck is held or confirmed at `at`. */
  async removeTruck(firm: string, plate: string, at: number): Promise<RemoveOutcome> {
    const verdict = (await scripts.remove.run(this.redis, [keys.truckOwner(plate), keys.fleet(firm), keys.liveBookings(firm, plate)], [firm, truckOf(plate), String(at)])) as string;
    return verdict === 'removed' ? { ok: true } : { ok: false, refusal: verdict as Extract<RemoveOutcome, { ok: false }>['refusal'] };
  }

  /** Operators move a truck to another firm's fleet, once the firm that has it holds or confirmed none of it ahead. */
  async transferTruck(plate: string, toFirm: string, at: number): Promise<TransferOutcome> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const fromFirm = await this.truckOwner(plate);
      if (fromFirm === undefined) return { ok: false, refusal: 'truck-not-in-fleet' };
      const [verdict, detail, bookings] = (await scripts.transfer.run(
        this.redis,
        [keys.truckOwner(plate), keys.fleet(fromFirm), keys.fleet(toFirm), keys.liveBookings(fromFirm, plate)],
        [truckOf(plate), fromFirm, toFirm, String(at), String(this.rules.maxFleetTrucks)],
      )) as [string, string?, number?];
      if (detail === 'truck-has-bookings') return { ok: false, refusal: detail, bookings: bookings! };
      if (verdict === 'refused') return { ok: false, refusal: detail as 'truck-not-in-fleet' | 'fleet-full' };
      if (verdict === 'transferred') return { ok: true, truck: JSON.parse(detail!) as FleetTruck, fromFirm };
    }
    throw new Error(`truck ${plate} kept changing fleets during its transfer; try again`);
  }

  /**
   * A firm's registrations refused plate-in-another-fleet in the hour before `at`: how many,
   * and when the oldest of them leaves the hour (0 when none).
   */
  async registrationRefusals(firm: string, at: number): Promise<{ count: number; freeAt: number }> {
    const key = keys.registrationRefusals(firm);
    const answers = await this.redis.multi().zremrangebyscore(key, '-inf', at - hourMs).zrange(key, '0', '0', 'WITHSCORES').zcard(key).exec();
    const oldest = answers?.[1]?.[1] as string[] | undefined;
    return { count: Number(answers?.[2]?.[1] ?? 0), freeAt: oldest?.[1] === undefined ? 0 : Number(oldest[1]) + hourMs };
  }

  /** Counts a registration of the firm refused plate-in-another-fleet; how many it has in the hour now. */
  async countRegistrationRefusal(firm: string, at: number): Promise<number> {
    const key = keys.registrationRefusals(firm);
    const answers = await this.redis.multi().zadd(key, at, `${at}-${randomUUID()}`).zremrangebyscore(key, '-inf', at - hourMs).zcard(key).pexpire(key, hourMs).exec();
    return Number(answers?.[2]?.[1] ?? 0);
  }

  /**
   * Once (a key marks it done): every held or confirmed booking still blocking its truck
   * (the due index) whose truck no fleet has puts it in its firm's fleet, so no other firm
   * can register it and be told plate-already-booked. Undefined when done before.
   */
  async adoptBookedTrucks(at: number): Promise<AdoptionOutcome | undefined> {
    if (await this.redis.exists(keys.adopted)) return undefined;
    const outcome: AdoptionOutcome = { bookings: 0, registered: 0, claimed: 0 };
    const due = await this.redis.zrangebyscore(keys.due, `(${at}`, '+inf', 'WITHSCORES');
    for (let i = 0; i < due.length; i += 2) {
      const [id = '', until = ''] = due.slice(i, i + 2);
      const window = await this.redis.get(keys.bookingWindow(id));
      const json = window && (await this.redis.hget(keys.bookings(window), id));
      if (!json) continue;
      const booking = JSON.parse(json) as Booking;
      if (booking.state !== 'held' && booking.state !== 'confirmed') continue;
      const truck = fleetTruck({ plate: booking.plate, country: countryOf(booking.plate) }, at);
      const verdict = await scripts.adopt.run(this.redis, [keys.truckOwner(booking.plate), keys.fleet(booking.firm), keys.liveBookings(booking.firm, booking.plate)], [booking.firm, truck.plateKey, JSON.stringify(truck), id, until]);
      outcome.bookings += 1;
      if (verdict === 'registered') outcome.registered += 1;
      if (verdict === 'claimed') outcome.claimed += 1;
    }
    await this.redis.set(keys.adopted, String(at));
    return outcome;
  }

  /** A firm's trucks, by plate key. */
  async fleet(firm: string): Promise<FleetTruck[]> {
    const trucks = (await this.redis.hvals(keys.fleet(firm))).map((json) => JSON.parse(json) as FleetTruck);
    return trucks.sort((a, b) => a.plateKey.localeCompare(b.plateKey));
  }

  /** The firm whose fleet has the truck a plate names. */
  async truckOwner(plate: string): Promise<string | undefined> {
    return (await this.redis.get(keys.truckOwner(plate))) ?? undefined;
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

  /** When the oldest entry still in the outbox was made (ms, Redis's clock: its stream id), or undefined when the outbox is empty. */
  async oldestOutboxEntryAt(): Promise<number | undefined> {
    const [first] = await this.redis.xrange(keys.outbox, '-', '+', 'COUNT', 1);
    return first ? Number(first[0].split('-')[0]) : undefined;
  }

  private async replay(id: string, request: HoldRequest): Promise<StoredHold> {
    const booking = await this.booking(id, request.at);
    if (!booking) throw new Error(`idempotency key of booking ${id} outlived it`);
    return sameHoldRequest(booking, request) ? { ok: true, booking, replayed: true } : { ok: false, refusal: 'idempotency-key-reused' };
  }

  private async override(window: SlotWindow, field: string, value: string, at: number): Promise<SlotChange> {
    const key = windowKeyOf(window);
    const [availability, entryId] = (await scripts.override.run(
      this.redis,
      [keys.holds(key), keys.meta(key), keys.outbox],
      [field, value, String(at), String(this.templateCapacity(window)), key, String(window.windowStart + this.rules.windowMs + this.retentionMs)],
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
    const before = read.booking;
    const counts = (b: Booking) => (placeHolding.has(b.state) && b.state !== 'held' ? 1 : 0);
    const [written, tallied, entryId] = (await scripts.update.run(
      this.redis,
      [
        keys.bookings(read.window),
        keys.meta(read.window),
        keys.firmRecord(next.firm),
        keys.due,
        keys.outbox,
        keys.holds(read.window),
        keys.firmHolds(read.window, next.firm),
        keys.trucks(next.windowStart),
        keys.liveBookings(next.firm, next.plate),
      ],
      [
        next.id,
        read.json,
        json,
        outcomeOf(before, next),
        this.dueOf(next),
        String(at),
        String(this.templateCapacity(next)),
        read.window,
        before.state === 'held' && next.state !== 'held' ? '1' : '0',
        String(counts(next) - counts(before)),
        next.firm,
        truckOf(next.plate),
      ],
    )) as [number, string?, string?];
    return written === 1 ? this.change(entryId!, read.window, tallied!, json) : undefined;
  }
}
