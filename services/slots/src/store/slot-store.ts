import type { Redis } from '@tower/shared';
import { applyBookingAction, elapse, placeHolding, type Booking, type BookingAction, type Transition } from '../domain/bookings.ts';
import { firmCap, newBooking, windowKeyOf, type Availability, type FirmRecord, type HoldOutcome, type HoldRequest, type LedgerRules, type SlotWindow } from '../domain/ledger.ts';

/**
 * Live slot state in Redis, the same rules as `SlotLedger` (the reference model), made
 * atomic: a hold is one Lua script over its window (capacity, closure, every booking of
 * the window, the idempotency key), so however many requests race, no window is ever
 * given more places than it has. Later changes of a booking are compare-and-set: the
 * pure lifecycle function computes the new state, a script writes it only if the
 * booking is still what was read, and the change is retried otherwise.
 *
 * Keys (`{…}` is the window, a Redis Cluster hash tag):
 *   slots:{w}:bookings   hash  booking id → booking JSON
 *   slots:{w}:meta       hash  capacity, closed (operator overrides)
 *   slots:idem:<firm>|<key>    booking id of an Idempotency-Key
 *   slots:booking:<id>   the booking's window key
 *   slots:firm:<firm>    hash  decided, noShows
 */
const scripts = {
  hold: `
local existing = redis.call('GET', KEYS[3])
if existing then return {'replayed', redis.call('HGET', KEYS[1], existing)} end
local meta = redis.call('HMGET', KEYS[2], 'capacity', 'closed')
if meta[2] == '1' then return {'refused', 'window-closed'} end
local capacity = tonumber(meta[1]) or tonumber(ARGV[3])
local now = tonumber(ARGV[2])
local new = cjson.decode(ARGV[1])
local used, firmUsed = 0, 0
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do
  local b = cjson.decode(json)
  local state = b.state
  if state == 'held' and now >= b.heldUntil then state = 'expired' end
  if state ~= 'cancelled' and state ~= 'expired' then
    used = used + 1
    if b.firm == new.firm then firmUsed = firmUsed + 1 end
    if b.plate == new.plate and (state == 'held' or state == 'confirmed') then return {'refused', 'plate-already-booked'} end
  end
end
if capacity - used <= 0 then return {'refused', 'window-full'} end
if firmUsed >= tonumber(ARGV[4]) then return {'refused', 'firm-cap-reached'} end
redis.call('HSET', KEYS[1], new.id, ARGV[1])
redis.call('SET', KEYS[3], new.id)
redis.call('SET', KEYS[4], ARGV[5])
return {'held', ARGV[1]}`,
  /** Writes ARGV[3] over booking ARGV[1] only if it is still ARGV[2]; counts an outcome in the firm's record. */
  update: `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], 'decided', 1)
  if ARGV[4] == 'no-show' then redis.call('HINCRBY', KEYS[2], 'noShows', 1) end
end
return 1`,
};

const windowKeys = (w: string) => ({ bookings: `slots:{${w}}:bookings`, meta: `slots:{${w}}:meta` });
const outcomeOf = (before: Booking, after: Booking) => {
  const decided = (b: Booking) => b.state === 'no-show' || b.arrivedAt !== null;
  if (decided(before) || !decided(after)) return '';
  return after.state === 'no-show' ? 'no-show' : 'arrived';
};

export class RedisSlotStore {
  constructor(
    private readonly redis: Redis,
    readonly rules: LedgerRules,
    private readonly templateCapacity: (window: SlotWindow) => number,
  ) {}

  async hold(request: HoldRequest): Promise<HoldOutcome> {
    const idempotency = `slots:idem:${request.firm}|${request.idempotencyKey}`;
    const replayed = await this.redis.get(idempotency);
    if (replayed) return { ok: true, booking: (await this.booking(replayed, request.at))!, replayed: true };
    if (request.windowStart % this.rules.windowMs !== 0) return { ok: false, refusal: 'window-not-aligned' };
    const window = windowKeyOf(request);
    const keys = windowKeys(window);
    if (request.at >= request.windowStart + this.rules.windowMs) return { ok: false, refusal: 'window-past' };
    const booking = newBooking(request, this.rules);
    const cap = firmCap(await this.firmRecord(request.firm), this.rules);
    const [verdict, detail] = (await this.redis.eval(scripts.hold, 4, keys.bookings, keys.meta, idempotency, `slots:booking:${booking.id}`, JSON.stringify(booking), String(request.at), String(this.templateCapacity(request)), String(cap), window)) as [string, string];
    if (verdict === 'refused') return { ok: false, refusal: detail as Extract<HoldOutcome, { ok: false }>['refusal'] };
    const stored = JSON.parse(detail) as Booking;
    return { ok: true, booking: verdict === 'replayed' ? elapse(stored, request.at, this.rules) : stored, replayed: verdict === 'replayed' };
  }

  /** Applies an action; undefined for an unknown booking. Retries when another change won the race. */
  async act(id: string, action: BookingAction): Promise<Transition | undefined> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const read = await this.read(id);
      if (!read) return undefined;
      const transition = applyBookingAction(read.booking, action, this.rules);
      if (await this.write(read, transition.booking)) return transition;
    }
    throw new Error(`booking ${id} kept changing under ${action.type}; try again`);
  }

  /** The booking as time has made it at `at`; a read: only actions (a `tick` too) store it. */
  async booking(id: string, at: number): Promise<Booking | undefined> {
    const read = await this.read(id);
    return read && elapse(read.booking, at, this.rules);
  }

  async availability(window: SlotWindow, at: number): Promise<Availability> {
    const keys = windowKeys(windowKeyOf(window));
    const [[, meta], [, values]] = (await this.redis.multi().hmget(keys.meta, 'capacity', 'closed').hvals(keys.bookings).exec()) as [[unknown, (string | null)[]], [unknown, string[]]];
    const capacity = meta[0] !== null ? Number(meta[0]) : this.templateCapacity(window);
    const closed = meta[1] === '1';
    let held = 0;
    let booked = 0;
    for (const json of values) {
      const booking = elapse(JSON.parse(json) as Booking, at, this.rules);
      if (booking.state === 'held') held += 1;
      else if (placeHolding.has(booking.state)) booked += 1;
    }
    return { capacity, held, booked, free: closed ? 0 : Math.max(0, capacity - held - booked), closed };
  }

  async setCapacity(window: SlotWindow, capacity: number): Promise<void> {
    await this.redis.hset(windowKeys(windowKeyOf(window)).meta, 'capacity', String(capacity));
  }

  async setClosed(window: SlotWindow, closed: boolean): Promise<void> {
    await this.redis.hset(windowKeys(windowKeyOf(window)).meta, 'closed', closed ? '1' : '0');
  }

  async firmRecord(firm: string): Promise<FirmRecord> {
    const [decided, noShows] = await this.redis.hmget(`slots:firm:${firm}`, 'decided', 'noShows');
    return { decided: Number(decided ?? 0), noShows: Number(noShows ?? 0) };
  }

  private async read(id: string): Promise<{ window: string; json: string; booking: Booking } | undefined> {
    const window = await this.redis.get(`slots:booking:${id}`);
    if (!window) return undefined;
    const json = await this.redis.hget(windowKeys(window).bookings, id);
    return json ? { window, json, booking: JSON.parse(json) as Booking } : undefined;
  }

  private async write(read: { window: string; json: string; booking: Booking }, next: Booking): Promise<boolean> {
    const json = JSON.stringify(next);
    if (json === read.json) return true;
    const outcome = outcomeOf(read.booking, next);
    return (await this.redis.eval(scripts.update, 2, windowKeys(read.window).bookings, `slots:firm:${next.firm}`, next.id, read.json, json, outcome)) === 1;
  }
}
