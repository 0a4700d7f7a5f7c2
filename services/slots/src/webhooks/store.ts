import type { Redis } from '@tower/shared';
import { Script } from '../store/slot-store.ts';

/**
 * The webhooks' state in Redis, under the slots prefix:
 *   slots:wh:ep:<id>                hash  an endpoint (its secret in field `secret`, read only to sign)
 *   slots:wh:firm:<firm>            set   the firm's endpoint ids
 *   slots:wh:d:<delivery>           hash  a delivery: event, body, attempts, state; expires `keepMs` after it was queued
 *   slots:wh:q:<endpoint>:<booking> list  the deliveries of one booking to one endpoint, oldest first: only the head is sent
 *   slots:wh:pending:<endpoint>     set   bookings with a queue at that endpoint
 *   slots:wh:due:<firm>             zset  the firm's queues, `<firm>|<endpoint>|<booking>`, by when the head is next sent
 *                                         (while sending: the end of the sender's lease, after which another sender takes it)
 *   slots:wh:firms                  set   firms that have had queues: the sender takes each one's due queues up to its own
 *                                         limit, so one firm's backlog never stands in front of another's
 *   slots:wh:log:<endpoint>         list  the last attempts, newest first
 * A delivery is queued by one script (idempotent by its id: Kafka giving a change again
 * queues nothing twice), so the consumer commits its offset once the script has run.
 */
export const webhookEventTypes = ['booking.state-changed'] as const;
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

export interface QueuedDelivery {
  id: string;
  endpointId: string;
  firm: string;
  bookingId: string;
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

/** One booking's queue at one endpoint, as the due set names it. */
export interface QueueRef {
  firm: string;
  endpointId: string;
  bookingId: string;
}

const keys = {
  endpoint: (id: string) => `slots:wh:ep:${id}`,
  firm: (firm: string) => `slots:wh:firm:${firm}`,
  delivery: (id: string) => `slots:wh:d:${id}`,
  queue: (endpointId: string, bookingId: string) => `slots:wh:q:${endpointId}:${bookingId}`,
  pending: (endpointId: string) => `slots:wh:pending:${endpointId}`,
  due: (firm: string) => `slots:wh:due:${firm}`,
  firms: 'slots:wh:firms',
  log: (endpointId: string) => `slots:wh:log:${endpointId}`,
};

const member = (ref: QueueRef) => `${ref.firm}|${ref.endpointId}|${ref.bookingId}`;
const refOf = (m: string): QueueRef => {
  const [firm = '', endpointId = '', bookingId = ''] = m.split('|');
  return { firm, endpointId, bookingId };
};

const scripts = {
  // KEYS: firm set, endpoint; ARGV: limit, id, field/value pairs
  create: new Script(`
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('SADD', KEYS[1], ARGV[2])
return 1`),
  // KEYS: delivery, queue, pending, due, firms; ARGV: delivery id, keep ms, due member, now, booking id, firm, field/value pairs
  enqueue: new Script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], 'NX', ARGV[4], ARGV[3])
redis.call('SADD', KEYS[5], ARGV[6])
return 1`),
  // KEYS: due; ARGV: member, now, lease end. Takes a due queue for one sender.
  claim: new Script(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1`),
  // KEYS: queue, delivery, due, pending, log; ARGV: delivery id, state, attempts, member, now, booking id, log entry, log size.
  // The head leaves its queue (delivered or given up); the queue's next is due at once.
  finish: new Script(`
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
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
  // KEYS: endpoint, delivery, due, log; ARGV: attempts, member, next attempt at, log entry, log size, pause after, reason, now.
  // Returns 1 when this failure paused the endpoint.
  fail: new Script(`
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'attempts', ARGV[1]) end
redis.call('ZADD', KEYS[3], 'XX', ARGV[3], ARGV[2])
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local failures = redis.call('HINCRBY', KEYS[1], 'consecutiveFailures', 1)
if failures >= tonumber(ARGV[6]) and redis.call('HGET', KEYS[1], 'state') == 'active' then
  redis.call('HSET', KEYS[1], 'state', 'paused', 'pausedReason', ARGV[7], 'pausedAt', ARGV[8])
  return 1
end
return 0`),
};

const numberOrNull = (value: string | undefined) => (value === undefined || value === '' ? null : Number(value));

function endpointOf(hash: Record<string, string>): WebhookEndpoint | undefined {
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
  };
}

export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: { keepMs: number; logSize: number },
  ) {}

  /** Stores a new endpoint with its secret; false when the firm has `limit` already. */
  async create(endpoint: WebhookEndpoint, secret: string, limit: number): Promise<boolean> {
    const fields = { ...endpoint, events: JSON.stringify(endpoint.events), pausedReason: '', pausedAt: '', secret };
    const result = await scripts.create.run(this.redis, [keys.firm(endpoint.firm), keys.endpoint(endpoint.id)], [String(limit), endpoint.id, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])]);
    return result === 1;
  }

  async endpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return endpointOf(await this.redis.hgetall(keys.endpoint(id)));
  }

  /** The secret to sign with; never in an answer or a log. */
  async secretOf(id: string): Promise<string | undefined> {
    return (await this.redis.hget(keys.endpoint(id), 'secret')) ?? undefined;
  }

  async endpointsOf(firm: string): Promise<WebhookEndpoint[]> {
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
    for (const bookingId of bookings) pipeline.del(keys.queue(endpoint.id, bookingId)).zrem(keys.due(endpoint.firm), member({ firm: endpoint.firm, endpointId: endpoint.id, bookingId }));
    await pipeline.exec();
  }

  /** Queues a delivery behind its booking's earlier ones at that endpoint; false when it was queued before (same id). */
  async enqueue(delivery: QueuedDelivery, now: number): Promise<boolean> {
    const ref = { firm: delivery.firm, endpointId: delivery.endpointId, bookingId: delivery.bookingId };
    const fields = { ...delivery, attempts: 0, state: 'pending' };
    const result = await scripts.enqueue.run(
      this.redis,
      [keys.delivery(delivery.id), keys.queue(delivery.endpointId, delivery.bookingId), keys.pending(delivery.endpointId), keys.due(delivery.firm), keys.firms],
      [delivery.id, String(this.settings.keepMs), member(ref), String(now), delivery.bookingId, delivery.firm, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])],
    );
    return result === 1;
  }

  async delivery(id: string): Promise<StoredDelivery | undefined> {
    const hash = await this.redis.hgetall(keys.delivery(id));
    if (!hash['id']) return undefined;
    return {
      id: hash['id'],
      endpointId: hash['endpointId'] ?? '',
      firm: hash['firm'] ?? '',
      bookingId: hash['bookingId'] ?? '',
      eventId: hash['eventId'] ?? '',
      type: (hash['type'] ?? 'booking.state-changed') as WebhookEventType,
      body: hash['body'] ?? '',
      queuedAt: Number(hash['queuedAt'] ?? 0),
      attempts: Number(hash['attempts'] ?? 0),
      state: (hash['state'] ?? 'pending') as StoredDelivery['state'],
    };
  }

  /** Firms that have had deliveries queued. */
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
    return (await this.redis.lindex(keys.queue(ref.endpointId, ref.bookingId), 0)) ?? undefined;
  }

  /** A queue with nothing in it, or of a paused or deleted endpoint, leaves the due set (resume puts it back). */
  async park(ref: QueueRef): Promise<void> {
    await this.redis.zrem(keys.due(ref.firm), member(ref));
  }

  /** The head was delivered or given up: it leaves the queue, and the queue's next is due now. */
  async finish(ref: QueueRef, attempt: DeliveryAttempt, now: number): Promise<void> {
    await scripts.finish.run(
      this.redis,
      [keys.queue(ref.endpointId, ref.bookingId), keys.delivery(attempt.deliveryId), keys.due(ref.firm), keys.pending(ref.endpointId), keys.log(ref.endpointId)],
      [attempt.deliveryId, attempt.outcome === 'delivered' ? 'delivered' : 'failed', String(attempt.attempt), member(ref), String(now), ref.bookingId, JSON.stringify(attempt), String(this.settings.logSize)],
    );
    if (attempt.outcome === 'delivered') await this.redis.hset(keys.endpoint(ref.endpointId), 'consecutiveFailures', 0);
  }

  /** The head failed and is tried again at `nextAt`; true when this failure paused the endpoint (`pauseAfter` in a row). */
  async fail(ref: QueueRef, attempt: DeliveryAttempt, nextAt: number, pauseAfter: number, now: number): Promise<boolean> {
    const reason = `${pauseAfter} deliveries in a row failed; the last: ${attempt.statusCode === null ? attempt.error : `HTTP ${attempt.statusCode}`}`;
    const paused = await scripts.fail.run(
      this.redis,
      [keys.endpoint(ref.endpointId), keys.delivery(attempt.deliveryId), keys.due(ref.firm), keys.log(ref.endpointId)],
      [String(attempt.attempt), member(ref), String(nextAt), JSON.stringify(attempt), String(this.settings.logSize), String(pauseAfter), reason, String(now)],
    );
    return paused === 1;
  }

  /** Active again: failures forgotten, every queue of the endpoint due now. */
  async resume(endpoint: WebhookEndpoint, now: number): Promise<void> {
    const bookings = await this.redis.smembers(keys.pending(endpoint.id));
    const pipeline = this.redis.multi().hset(keys.endpoint(endpoint.id), 'state', 'active', 'pausedReason', '', 'pausedAt', '', 'consecutiveFailures', 0);
    for (const bookingId of bookings) pipeline.zadd(keys.due(endpoint.firm), now, member({ firm: endpoint.firm, endpointId: endpoint.id, bookingId }));
    await pipeline.exec();
  }

  /** The endpoint's last attempts, newest first. */
  async log(endpointId: string): Promise<DeliveryAttempt[]> {
    return (await this.redis.lrange(keys.log(endpointId), 0, this.settings.logSize - 1)).map((entry) => JSON.parse(entry) as DeliveryAttempt);
  }
}
