/**
 * A key's budget of requests (RATE_PER_SECOND, RATE_BURST), the token bucket the slots
 * routes spend from. One process keeps it in memory. Several API processes
 * (SLOTS_API_PROCESSES) keep it in Redis, one script call per request: node:cluster hands
 * out connections, not requests, so a firm on one keep-alive connection only ever meets
 * one process, and a bucket per process would give it 1/N of its budget (or N× with one
 * connection per process). The bucket in Redis is whole across processes and never N×.
 * While Redis does not answer, each process falls back to its 1/N share in memory
 * (never more than the whole together); the route then usually fails on Redis anyway.
 */
import { RateLimitedProblem, RateLimiter, type Logger, type Redis } from '@tower/shared';
import { Script } from './store/slot-store.ts';

export type Allowance = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Spends `cost` requests of a caller's budget, or says how long to wait. */
export interface KeyBudget {
  take(caller: string, cost: number): Promise<Allowance>;
}

/** Spends `requests` of the caller's budget, or throws 429 with Retry-After. */
export async function spendOrRefuse(budget: KeyBudget, caller: string, requests: number): Promise<void> {
  const allowance = await budget.take(caller, requests);
  if (!allowance.allowed) throw new RateLimitedProblem(`${caller} is over its rate of requests${requests > 1 ? ` (a batch of ${requests} counts ${requests})` : ''}; retry in ${allowance.retryAfterSeconds} s`, allowance.retryAfterSeconds);
}

export interface BudgetRate {
  perSecond: number;
  burst: number;
}

/** The budget in this process's memory: the whole service's when one process serves it. */
export function memoryBudget(rate: BudgetRate, now: () => number): KeyBudget {
  const limiter = new RateLimiter(rate.perSecond, rate.burst, now);
  return { take: async (caller, cost) => limiter.take(caller, cost) };
}

/**
 * KEYS[1] the caller's bucket (hash: tokens, at); ARGV rate per second, burst, now (ms),
 * cost. Returns {1, 0} when spent, {0, seconds to wait} when not. The bucket expires once
 * it would have refilled, so callers that come and go leave nothing behind.
 */
const takeScript = new Script(`
local rate, burst, now, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if cost > burst then return {0, math.ceil(cost / rate)} end
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(bucket[1]) or burst, tonumber(bucket[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) / 1000 * rate)
  at = now
end
if tokens < cost then return {0, math.ceil((cost - tokens) / rate)} end
tokens = tokens - cost
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {1, 0}
`);

/** The key of a caller's bucket shared by the API processes. */
export const budgetKeyOf = (caller: string) => `slots:budget:${caller}`;

/** The budget in Redis, whole across `processes` API processes; each falls back to its 1/N share in memory while Redis fails. */
export function sharedBudget(redis: Redis, rate: BudgetRate, processes: number, now: () => number, logger: Logger): KeyBudget {
  const share = memoryBudget({ perSecond: rate.perSecond / processes, burst: rate.burst / processes }, now);
  let failing = false;
  return {
    take: async (caller, cost) => {
      try {
        const [allowed, wait] = (await takeScript.run(redis, [budgetKeyOf(caller)], [String(rate.perSecond), String(rate.burst), String(now()), String(cost)])) as [number, number];
        if (failing) logger.info('the shared key budget in Redis answers again');
        failing = false;
        return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: wait };
      } catch (error) {
        if (!failing) logger.warn({ err: error }, `the shared key budget in Redis failed: this process allows its 1/${processes} share until it answers`);
        failing = true;
        return share.take(caller, cost);
      }
    },
  };
}
