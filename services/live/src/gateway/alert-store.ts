import type { Redis } from '@tower/shared';
import type { Alert } from '../domain/alerts.ts';

/** Who acknowledges: the operator token's id and the name the wall shows for it. */
export interface Operator {
  id: string;
  name: string;
}

/**
 * The open alerts in Redis, shared by every gateway instance: a hash cause → alert (so
 * there is never a second open alert for a cause) and an index id → cause. Every change
 * is one Lua script, atomic against the others: raising, acknowledging and clearing
 * race safely between instances. One instance at a time evaluates the rules (`lead`).
 * Each change is also kept in `alerts:unpublished` (id:revision → alert) in the same
 * script until it is published (`published`): a gateway killed between the change and
 * its publish leaves it there, and the leader publishes it (`unpublished`).
 */
const scripts = {
  /** KEYS: open, ids, unpublished. ARGV: cause, alert JSON, id, id:revision. The alert, or nil if the cause is already open. */
  raise: `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
      redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
      redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
      return ARGV[2]
    end
    return false`,
  /** KEYS: open, ids, unpublished. ARGV: id, who (token id), at, who's display name. The alert after the change (unchanged if already acknowledged), or nil if not open. */
  acknowledge: `local cause = redis.call('HGET', KEYS[2], ARGV[1])
    if not cause then return false end
    local encoded = redis.call('HGET', KEYS[1], cause)
    if not encoded then return false end
    local alert = cjson.decode(encoded)
    if alert.state ~= 'active' then return encoded end
    alert.state = 'acknowledged'
    alert.acknowledgedBy = ARGV[2]
    alert.acknowledgedAt = tonumber(ARGV[3])
    alert.acknowledgedByName = ARGV[4]
    alert.revision = alert.revision + 1
    encoded = cjson.encode(alert)
    redis.call('HSET', KEYS[1], cause, encoded)
    redis.call('HSET', KEYS[3], ARGV[1] .. ':' .. alert.revision, encoded)
    return encoded`,
  /** KEYS: open, ids, unpublished. ARGV: cause, id, at. The cleared alert, or nil if that alert is no longer open. */
  clear: `local encoded = redis.call('HGET', KEYS[1], ARGV[1])
    if not encoded then return false end
    local alert = cjson.decode(encoded)
    if alert.id ~= ARGV[2] then return false end
    alert.state = 'cleared'
    alert.clearedAt = tonumber(ARGV[3])
    alert.revision = alert.revision + 1
    redis.call('HDEL', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[2])
    encoded = cjson.encode(alert)
    redis.call('HSET', KEYS[3], ARGV[2] .. ':' .. alert.revision, encoded)
    return encoded`,
  /** KEYS: leader. ARGV: holder, ttl ms. {1, ttl} if `holder` leads (taken or renewed), else {0, ms left of the other's lease}. */
  lead: `local holder = redis.call('GET', KEYS[1])
    if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return {1, tonumber(ARGV[2])} end
    if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return {1, tonumber(ARGV[2])} end
    return {0, redis.call('PTTL', KEYS[1])}`,
};

const keys = { open: 'alerts:open', ids: 'alerts:ids', leader: 'alerts:leader', unpublished: 'alerts:unpublished' };
const revisionKey = (alert: Alert) => `${alert.id}:${alert.revision}`;

export class AlertStore {
  constructor(private readonly redis: Redis) {}

  async open(): Promise<Alert[]> {
    const entries = await this.redis.hvals(keys.open);
    return entries.map((encoded) => JSON.parse(encoded) as Alert);
  }

  async raise(alert: Alert): Promise<Alert | undefined> {
    return this.decoded(await this.redis.eval(scripts.raise, 3, keys.open, keys.ids, keys.unpublished, alert.cause, JSON.stringify(alert), alert.id, revisionKey(alert)));
  }

  async acknowledge(id: string, who: Operator, at: number): Promise<Alert | undefined> {
    return this.decoded(await this.redis.eval(scripts.acknowledge, 3, keys.open, keys.ids, keys.unpublished, id, who.id, String(at), who.name));
  }

  async clear(alert: Alert, at: number): Promise<Alert | undefined> {
    return this.decoded(await this.redis.eval(scripts.clear, 3, keys.open, keys.ids, keys.unpublished, alert.cause, alert.id, String(at)));
  }

  /** Changes not yet published (their gateway failed to, or died first), oldest revision first. */
  async unpublished(): Promise<Alert[]> {
    const entries = await this.redis.hvals(keys.unpublished);
    return entries.map((encoded) => JSON.parse(encoded) as Alert).sort((a, b) => a.raisedAt - b.raisedAt || a.id.localeCompare(b.id) || a.revision - b.revision);
  }

  /** The change is on the topic and in the history. */
  async published(alert: Alert): Promise<void> {
    await this.redis.hdel(keys.unpublished, revisionKey(alert));
  }

  /**
   * Takes or renews the right to evaluate the rules for `ttlMs`: `leads` false while
   * another instance holds it, and `leaseLeftMs` how long its lease still runs (when to
   * try again to take over; negative for a lead without expiry).
   */
  async lead(holder: string, ttlMs: number): Promise<{ leads: boolean; leaseLeftMs: number }> {
    const [leads, leaseLeftMs] = (await this.redis.eval(scripts.lead, 1, keys.leader, holder, String(ttlMs))) as [number, number];
    return { leads: leads === 1, leaseLeftMs };
  }

  private decoded(reply: unknown): Alert | undefined {
    return typeof reply === 'string' ? (JSON.parse(reply) as Alert) : undefined;
  }
}
