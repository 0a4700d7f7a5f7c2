import { Redis } from 'ioredis';
import type { Logger } from './logging.ts';

export type { Redis };

/**
 * Redis with fail-fast defaults: a command fails after one retry instead of queueing
 * while Redis is down, so callers can answer 503 instead of hanging; the connection
 * itself keeps reconnecting with a capped backoff. Call `connect()` before use: it
 * resolves once Redis is ready.
 */
export function createRedis(url: string, options: { connectionName: string; logger: Logger; username?: string; password?: string }): Redis {
  const redis = new Redis(url, {
    connectionName: options.connectionName,
    // ACL user and password; empty: the URL's (or none).
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    lazyConnect: true,
    connectTimeout: 3000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 3000),
  });
  // Connection errors are reported here and retried; commands fail on their own.
  redis.on('error', (error: Error) => options.logger.warn({ err: error, component: 'redis' }, 'redis connection error'));
  return redis;
}

/**
 * Whether a Redis error means "not reachable now" (connection down, timed out, loading
 * its data after a restart) rather than a bug (a script error is a reply error too):
 * the first is a 503 naming redis, the second a 500.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)/.test(error.message);
  return !(error instanceof TypeError || error instanceof SyntaxError || error instanceof RangeError);
}

/** Resolves when Redis answers PING; for readiness checks. */
export async function pingRedis(redis: Redis): Promise<void> {
  const reply = await redis.ping();
  if (reply !== 'PONG') throw new Error(`unexpected PING reply '${reply}'`);
}

const refusal = /^(WRONGPASS|NOAUTH|NOPERM)/;

/**
 * `redis.connect()`, rejecting with Redis's own reason when it refuses the login
 * (ioredis reports that as an error event and rejects with "Connection is closed").
 */
export async function connectRedis(redis: Redis): Promise<void> {
  let refused: Error | undefined;
  const onError = (error: Error) => {
    if (refusal.test(error.message)) refused = error;
  };
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (error) {
    throw refused ?? error;
  } finally {
    redis.off('error', onError);
  }
}
