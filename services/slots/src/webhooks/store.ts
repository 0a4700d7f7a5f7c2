import type { ConditionLevel, Redis } from '@tower/shared';
import { Script } from '../store/slot-store.ts';

/**
 * The webhooks' state in Redis, under the slots prefix:
 *   slots:wh:ep:<id>                hash  an endpoint (its secret in field `secret`, read only to sign; `queued`: its
 *                                         deliveries in queues, `refused`: those refused at a full queue)
 *   slots:wh:firm:<firm>            set   the firm's endpoint ids
 *   slots:wh:d:<delivery>           hash  a delivery: event, body, attempts, state; expires `keepMs` after it was queued
 *   slots:wh:q:<endpoint>:<order>   list  the deliveries of one order key (a booking, a window, an endpoint) to one
 *                                         endpoint, oldest first: only the head is sent
 *   slots:wh:pending:<endpoint>     set   order keys with a queue at that endpoint
 *   slots:wh:due:<firm>             zset  the firm's queues, `<firm>|<endpoint>|<order key>`, by when the head is next sent
 *                                         (while sending: the end of the sender's lease, after which another sender takes it)
 *   slots:wh:firms                  set   firms that have endpoints or queues: the sender takes each one's due queues up
 *                                         to its own limit, so one firm's backlog never stands in front of another's
 *   slots:wh:log:<endpoint>         list  the last attempts, newest first
 *   slots:wh:win:<window>           hash  a window as the fan-out last saw it change (closed, capacity, version), until
 *                                         a day after the window ends: closures and cuts are told once, as they happen
 *   slots:wh:levels                 hash  lane group → its conditions level as last told, how many levels it has had,
 *                                         and a level seen since that has not held long enough yet (JSON)
 * A delivery is queued by one script (idempotent by its id: Kafka giving a change again
 * queues nothing twice), so the consumer commits its offset once the script has run.
 * An endpoint holds at most `maxQueued` deliveries: one more is refused and counted.
 */
export const webhookEventTypes = ['booking.state-changed', 'window.closed', 'window.capacity-cut', 'conditions.threshold-crossed', 'endpoint.paused'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export interface WebhookEndpoint {
  id: string;
  firm: string;
  url: string;
  events: WebhookEventType[];
  description: string;
  state: 'active' | 'paused';
  pausedReason: string | null;
  pausedAt: number | null;
  consecutiveFailures: number;
  createdAt: number;
}

/** An endpoint with what waits for it. */
export interface StoredEndpoint extends WebhookEndpoint {
  /** Deliveries queued for it, not yet delivered or given up. */
  queuedDeliveries: number;
  /** Deliveries refused because it had `maxQueued` already. */
  refusedDeliveries: number;
}

/** What `enqueue` did: queued; already queued (same id); the endpoint is gone; refused, the endpoint's queue being full. */
export type EnqueueOutcome = 'queued' | 'duplicate' | 'gone' | 'refused';
const enqueueOutcomes: Record<number, EnqueueOutcome> = { 0: 'duplicate', 1: 'queued', 2: 'gone', 3: 'refused' };

/** A lane group's conditions level as last told, and how many levels it has had (0: none seen). */
export interface SeenLevel {
  level: ConditionLevel;
  version: number;
  /** Another level the group has shown since `pendingSince` (a view's asOf), not told until it has held long enough. */
  pending?: ConditionLevel;
  pendingSince?: number;
}

/** A window as the fan-out last saw it change. */
export interface SeenWindow {
  closed: boolean;
  capacity: number;
  version: number;
}

export interface QueuedDelivery {
  id: string;
  endpointId: string;
  firm: string;
  /** Deliveries of one order key to an endpoint go in the order they were queued: a booking's id, `window:<window>`, `endpoint:<id>`. */
  orderKey: string;
  eventId: string;
  type: WebhookEventType;
  body: string;
  queuedAt: number;
}

export interface StoredDelivery extends QueuedDelivery {
  attempts: number;
  state: 'pending' | 'delivered' | 'failed';
}

export interface DeliveryAttempt {
  deliveryId: string;
  eventId: string;
  attempt: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  outcome: 'delivered' | 'retrying' | 'failed';
}

/** One order key's queue at one endpoint, as the due set names it. */
export interface QueueRef {
  firm: string;
  endpointId: string;
  orderKey: string;
}

const keys = {
  endpoint: (id: string) => `slots:wh:ep:${id}`,
  firm: (firm: string) => `slots:wh:firm:${firm}`,
  delivery: (id: string) => `slots:wh:d:${id}`,
  queue: (endpointId: string, orderKey: string) => `slots:wh:q:${endpointId}:${orderKey}`,
  pending: (endpointId: string) => `slots:wh:pending:${endpointId}`,
  due: (firm: string) => `slots:wh:due:${firm}`,
  firms: 'slots:wh:firms',
  log: (endpointId: string) => `slots:wh:log:${endpointId}`,
  window: (windowKey: string) => `slots:wh:win:${windowKey}`,
  levels: 'slots:wh:levels',
};

const member = (ref: QueueRef) => `${ref.firm}|${ref.endpointId}|${ref.orderKey}`;
/** Firm and endpoint ids have no `|`; an order key may (a window's key). */
const refOf = (m: string): QueueRef => {
  const [firm = '', endpointId = '', ...orderKey] = m.split('|');
  return { firm, endpointId, orderKey: orderKey.join('|') };
};

/**
 * Queues one delivery (Lua, shared by the scripts that queue): nothing when it is queued
 * already (0), its endpoint is gone (2) or holds `cap` deliveries (3: refused, counted
 * in the endpoint's `refused`); else 1. `fields` is a JSON array of field, value, ….
 */
const enqueueLua = `
local function enqueue(kDelivery, kQueue, kPending, kDue, kFirms, kEndpoint, id, keepMs, dueMember, now, orderKey, firm, cap, fields)
  if redis.call('EXISTS', kDelivery) == 1 then return 0 end
  if redis.call('EXISTS', kEndpoint) == 0 then return 2 end
  if tonumber(redis.call('HGET', kEndpoint, 'queued') or '0') >= tonumber(cap) then
    redis.call('HINCRBY', kEndpoint, 'refused', 1)
    return 3
  end
  redis.call('HSET', kDelivery, unpack(cjson.decode(fields)))
  redis.call('PEXPIRE', kDelivery, keepMs)
  redis.call('RPUSH', kQueue, id)
  redis.call('SADD', kPending, orderKey)
  redis.call('ZADD', kDue, 'NX', now, dueMember)
  redis.call('SADD', kFirms, firm)
  redis.call('HINCRBY', kEndpoint, 'queued', 1)
  return 1
end
`;
/** The six keys of one delivery's `enqueue`, in its order. */
const enqueueKeys = (d: QueuedDelivery) => [keys.delivery(d.id), keys.queue(d.endpointId, d.orderKey), keys.pending(d.endpointId), keys.due(d.firm), keys.firms, keys.endpoint(d.endpointId)];
const deliveryFields = (d: QueuedDelivery) => JSON.stringify(Object.entries({ ...d, attempts: 0, state: 'pending' }).flatMap(([k, v]) => [k, String(v)]));

const scripts = {
  // KEYS: firm set, endpoint, firms; ARGV: limit, id, firm, field/value pairs
  create: new Script(`
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return 1`),
  // KEYS: the delivery's six (enqueueKeys); ARGV: delivery id, keep ms, due member, now, order key, firm, cap, fields JSON
  enqueue: new Script(`${enqueueLua}
return enqueue(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], unpack(ARGV, 1, 8))`),
  // KEYS: due; ARGV: member, now, lease end. Takes a due queue for one sender.
  claim: new Script(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1`),
  // KEYS: queue, delivery, due, pending, log, endpoint; ARGV: delivery id, state, attempts, member, now, order key, log entry, log size.
  // The head leaves its queue (delivered or given up); the queue's next is due at once.
  finish: new Script(`
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  if tonumber(redis.call('HGET', KEYS[6], 'queued') or '0') > 0 then redis.call('HINCRBY', KEYS[6], 'queued', -1) end
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'state', ARGV[2], 'attempts', ARGV[3]) end
if redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
else
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('SREM', KEYS[4], ARGV[6])
end
redis.call('LPUSH', KEYS[5], ARGV[7])
redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[8]) - 1)
return 1`),
  // KEYS: endpoint, delivery, due, log, then each notice's six (enqueueKeys);
  // ARGV: attempts, member, next attempt at, log entry, log size, pause after, reason, now, keep ms, cap,
  //       then per notice: delivery id, due member, order key, firm, fields JSON.
  // Returns {1 when this failure paused the endpoint, notices refused}: the notices (`endpoint.paused` to
  // the firm's other endpoints) are queued in the same step as the pause, so a pause is never left untold.
  fail: new Script(`${enqueueLua}
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'attempts', ARGV[1]) end
redis.call('ZADD', KEYS[3], 'XX', ARGV[3], ARGV[2])
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local failures = redis.call('HINCRBY', KEYS[1], 'consecutiveFailures', 1)
if failures < tonumber(ARGV[6]) or redis.call('HGET', KEYS[1], 'state') ~= 'active' then return {0, 0} end
redis.call('HSET', KEYS[1], 'state', 'paused', 'pausedReason', ARGV[7], 'pausedAt', ARGV[8])
local refused = 0
for i = 0, (#KEYS - 4) / 6 - 1 do
  local k, a = 4 + i * 6, 10 + i * 5
  if enqueue(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], ARGV[a + 1], ARGV[9], ARGV[a + 2], ARGV[8], ARGV[a + 3], ARGV[a + 4], ARGV[10], ARGV[a + 5]) == 3 then
    refused = refused + 1
  end
end
return {1, refused}`),
  // KEYS: levels; ARGV: lane group, version expected, the group's state (JSON). Written only over the version expected.
  setLevel: new Script(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
local version = 0
if current then version = cjson.decode(current).version end
if version ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`),
  // KEYS: window; ARGV: closed, capacity, version, expire at. Kept only when newer than what is kept.
  rememberWindow: new Script(`
if tonumber(redis.call('HGET', KEYS[1], 'version') or '-1') >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'closed', ARGV[1], 'capacity', ARGV[2], 'version', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
return 1`),
};

const numberOrNull = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));

function endpointOf(hash: Record<string, string>): StoredEndpoint | undefined {
  if (!hash['id'] || !hash['firm']) return undefined;
  return {
    id: hash['id'],
    firm: hash['firm'],
    url: hash['url'] ?? '',
    events: JSON.parse(hash['events'] ?? '[]') as WebhookEventType[],
    description: hash['description'] ?? '',
    state: hash['state'] === 'paused' ? 'paused' : 'active',
    pausedReason: hash['pausedReason'] || null,
    pausedAt: numberOrNull(hash['pausedAt']),
    consecutiveFailures: Number(hash['consecutiveFailures'] ?? 0),
    createdAt: Number(hash['createdAt'] ?? 0),
    queuedDeliveries: Number(hash['queued'] ?? 0),
    refusedDeliveries: Number(hash['refused'] ?? 0),
  };
}

export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: { keepMs: number; logSize: number; maxQueued: number },
  ) {}

  /** Stores a new endpoint with its secret; false when the firm has `limit` already. */
  async create(endpoint: WebhookEndpoint, secret: string, limit: number): Promise<boolean> {
    const fields = { ...endpoint, events: JSON.stringify(endpoint.events), pausedReason: '', pausedAt: '', secret };
    const result = await scripts.create.run(this.redis, [keys.firm(endpoint.firm), keys.endpoint(endpoint.id), keys.firms], [String(limit), endpoint.id, endpoint.firm, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])]);
    return result === 1;
  }

  async endpoint(id: string): Promise<StoredEndpoint | undefined> {
    return endpointOf(await this.redis.hgetall(keys.endpoint(id)));
  }

  /** The secret to sign with; never in an answer or a log. */
  async secretOf(id: string): Promise<string | undefined> {
    return (await this.redis.hget(keys.endpoint(id), 'secret')) ?? undefined;
  }

  async endpointsOf(firm: string): Promise<StoredEndpoint[]> {
    const ids = (await this.redis.smembers(keys.firm(firm))).sort();
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.endpoint(id));
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([error, hash]) => {
      if (error) throw error;
      const endpoint = endpointOf(hash as Record<string, string>);
      return endpoint ? [endpoint] : [];
    });
  }

  /** Deletes an endpoint, its queues and its log (its deliveries expire). */
  async delete(endpoint: WebhookEndpoint): Promise<void> {
    const bookings = await this.redis.smembers(keys.pending(endpoint.id));
    const pipeline = this.redis.multi().srem(keys.firm(endpoint.firm), endpoint.id).del(keys.endpoint(endpoint.id), keys.pending(endpoint.id), keys.log(endpoint.id));
    for (const orderKey of bookings) pipeline.del(keys.queue(endpoint.id, orderKey)).zrem(keys.due(endpoint.firm), member({ firm: endpoint.firm, endpointId: endpoint.id, orderKey }));
    await pipeline.exec();
  }

  /** Queues a delivery behind its order key's earlier ones at that endpoint (see EnqueueOutcome). */
  async enqueue(delivery: QueuedDelivery, now: number): Promise<EnqueueOutcome> {
    const result = await scripts.enqueue.run(this.redis, enqueueKeys(delivery), [
      delivery.id,
      String(this.settings.keepMs),
      member(delivery),
      String(now),
      delivery.orderKey,
      delivery.firm,
      String(this.settings.maxQueued),
      deliveryFields(delivery),
    ]);
    return enqueueOutcomes[Number(result)] ?? 'duplicate';
  }

  async delivery(id: string): Promise<StoredDelivery | undefined> {
    const hash = await this.redis.hgetall(keys.delivery(id));
    if (!hash['id']) return undefined;
    return {
      id: hash['id'],
      endpointId: hash['endpointId'] ?? '',
      firm: hash['firm'] ?? '',
      // Deliveries queued before order keys were named so carry their booking's id.
      orderKey: hash['orderKey'] ?? hash['bookingId'] ?? '',
      eventId: hash['eventId'] ?? '',
      type: (hash['type'] ?? 'booking.state-changed') as WebhookEventType,
      body: hash['body'] ?? '',
      queuedAt: Number(hash['queuedAt'] ?? 0),
      attempts: Number(hash['attempts'] ?? 0),
      state: (hash['state'] ?? 'pending') as StoredDelivery['state'],
    };
  }

  /** Firms that have endpoints or have had deliveries queued. */
  async firms(): Promise<string[]> {
    return this.redis.smembers(keys.firms);
  }

  /** A firm's queues due now, oldest first. */
  async due(firm: string, now: number, limit: number): Promise<QueueRef[]> {
    return (await this.redis.zrangebyscore(keys.due(firm), '-inf', now, 'LIMIT', 0, limit)).map(refOf);
  }

  /** Takes a due queue until `leaseUntil`; false when another sender has it or it is not due. */
  async claim(ref: QueueRef, now: number, leaseUntil: number): Promise<boolean> {
    return (await scripts.claim.run(this.redis, [keys.due(ref.firm)], [member(ref), String(now), String(leaseUntil)])) === 1;
  }

  /** The delivery to send next in a queue. */
  async head(ref: QueueRef): Promise<string | undefined> {
    return (await this.redis.lindex(keys.queue(ref.endpointId, ref.orderKey), 0)) ?? undefined;
  }

  /** A queue with nothing in it, or of a paused or deleted endpoint, leaves the due set (resume puts it back). */
  async park(ref: QueueRef): Promise<void> {
    await this.redis.zrem(keys.due(ref.firm), member(ref));
  }

  /** The head was delivered or given up: it leaves the queue, and the queue's next is due now. */
  async finish(ref: QueueRef, attempt: DeliveryAttempt, now: number): Promise<void> {
    await scripts.finish.run(
      this.redis,
      [keys.queue(ref.endpointId, ref.orderKey), keys.delivery(attempt.deliveryId), keys.due(ref.firm), keys.pending(ref.endpointId), keys.log(ref.endpointId), keys.endpoint(ref.endpointId)],
      [attempt.deliveryId, attempt.outcome === 'delivered' ? 'delivered' : 'failed', String(attempt.attempt), member(ref), String(now), ref.orderKey, JSON.stringify(attempt), String(this.settings.logSize)],
    );
    if (attempt.outcome === 'delivered') await this.redis.hset(keys.endpoint(ref.endpointId), 'consecutiveFailures', 0);
  }

  /**
   * The head failed and is tried again at `nextAt`. When this failure pauses the endpoint
   * (`pauseAfter` in a row), `notices` (the pause as told to the firm's other endpoints)
   * are queued in the same script; `refused`: those refused at a full queue.
   */
  async fail(ref: QueueRef, attempt: DeliveryAttempt, nextAt: number, pause: { after: number; reason: string; notices: readonly QueuedDelivery[] }, now: number): Promise<{ paused: boolean; refused: number }> {
    const [paused, refused] = (await scripts.fail.run(
      this.redis,
      [keys.endpoint(ref.endpointId), keys.delivery(attempt.deliveryId), keys.due(ref.firm), keys.log(ref.endpointId), ...pause.notices.flatMap(enqueueKeys)],
      [
        String(attempt.attempt),
        member(ref),
        String(nextAt),
        JSON.stringify(attempt),
        String(this.settings.logSize),
        String(pause.after),
        pause.reason,
        String(now),
        String(this.settings.keepMs),
        String(this.settings.maxQueued),
        ...pause.notices.flatMap((d) => [d.id, member(d), d.orderKey, d.firm, deliveryFields(d)]),
      ],
    )) as [number, number];
    return { paused: paused === 1, refused };
  }

  /** Active again: failures forgotten, every queue of the endpoint due now. */
  async resume(endpoint: WebhookEndpoint, now: number): Promise<void> {
    const bookings = await this.redis.smembers(keys.pending(endpoint.id));
    const pipeline = this.redis.multi().hset(keys.endpoint(endpoint.id), 'state', 'active', 'pausedReason', '', 'pausedAt', '', 'consecutiveFailures', 0);
    for (const orderKey of bookings) pipeline.zadd(keys.due(endpoint.firm), now, member({ firm: endpoint.firm, endpointId: endpoint.id, orderKey }));
    await pipeline.exec();
  }

  /** The endpoint's last attempts, newest first. */
  async log(endpointId: string): Promise<DeliveryAttempt[]> {
    return (await this.redis.lrange(keys.log(endpointId), 0, this.settings.logSize - 1)).map((entry) => JSON.parse(entry) as DeliveryAttempt);
  }

  /** How the fan-out last saw a window change, or undefined when it has not. */
  async seenWindow(windowKey: string): Promise<SeenWindow | undefined> {
    const [closed, capacity, version] = await this.redis.hmget(keys.window(windowKey), 'closed', 'capacity', 'version');
    return version === null || version === undefined ? undefined : { closed: closed === '1', capacity: Number(capacity), version: Number(version) };
  }

  /** Keeps a window's change (unless a newer one is kept) until `expireAt`. */
  async rememberWindow(windowKey: string, seen: SeenWindow, expireAt: number): Promise<void> {
    await scripts.rememberWindow.run(this.redis, [keys.window(windowKey)], [seen.closed ? '1' : '0', String(seen.capacity), String(seen.version), String(expireAt)]);
  }

  /** Each lane group's conditions level as last told. */
  async seenLevels(): Promise<Map<string, SeenLevel>> {
    return new Map(Object.entries(await this.redis.hgetall(keys.levels)).map(([group, json]) => [group, JSON.parse(json) as SeenLevel]));
  }

  /** The group's state is now `state`, unless another instance moved its level on from `fromVersion` first. */
  async setLevel(group: string, fromVersion: number, state: SeenLevel): Promise<void> {
    await scripts.setLevel.run(this.redis, [keys.levels], [group, String(fromVersion), JSON.stringify(state)]);
  }

  /** Endpoints and the deliveries queued for them, by the endpoint's state (for /metrics). */
  async census(): Promise<Record<WebhookEndpoint['state'], { endpoints: number; queued: number }>> {
    const counts = { active: { endpoints: 0, queued: 0 }, paused: { endpoints: 0, queued: 0 } };
    for (const firm of await this.firms()) {
      const ids = await this.redis.smembers(keys.firm(firm));
      if (ids.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hmget(keys.endpoint(id), 'state', 'queued');
      for (const [error, fields] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        const [state, queued] = fields as (string | null)[];
        if (state === null || state === undefined) continue;
        const count = counts[state === 'paused' ? 'paused' : 'active'];
        count.endpoints += 1;
        count.queued += Number(queued ?? 0);
      }
    }
    return counts;
  }
}
