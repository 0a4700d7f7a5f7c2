/**
 * A Redis found already running is brought to today's users (servers.ts `reconfigure`),
 * as ClickHouse (its users file re-read) and Prometheus (SIGHUP) are: a password changed,
 * a user's rights and users no longer listed, without a restart. A Redis of its own on
 * port 27505 (never the shared test Redis).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { connectRedis, createRedis, type Logger } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { newInfraCredentials, newInfraPassword, type InfraCredentials } from './infra-credentials.ts';
import { standaloneRedisSpec } from './servers.ts';
import { startServer, stopServer } from './supervisor.ts';

const port = 27505;

/** Logs in as `user` and runs one command; its answer, or the error's first word (WRONGPASS, NOPERM). */
async function as(logger: Logger, user: string, password: string, command: [string, ...string[]]): Promise<unknown> {
  const redis = createRedis(`redis://127.0.0.1:${port}`, { connectionName: `redis-users-test-${user}`, logger, username: user, password });
  try {
    await connectRedis(redis);
    return await redis.call(...command);
  } catch (error) {
    return (error as Error).message.split(' ')[0];
  } finally {
    redis.disconnect();
  }
}

describe('a local Redis found running', () => {
  test('learns changed users without a restart: a new password, rights as listed, and users no longer listed gone', { timeout: 120_000 }, async ({ logger }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-redis-users-'));
    const before = newInfraCredentials();
    const first = standaloneRedisSpec(root, port, before);
    try {
      expect(await startServer(first)).toBe('started');
      const admin = before.redis['tower-admin'];
      // What drifts on a running server: a user nobody lists any more, and rights granted by hand.
      expect(await as(logger, 'tower-admin', admin, ['ACL', 'SETUSER', 'tower-retired', 'on', '>retired', '~*', '+@all'])).toBe('OK');
      expect(await as(logger, 'tower-admin', admin, ['ACL', 'SETUSER', 'tower-monitor', '+keys'])).toBe('OK');
      expect(await as(logger, 'tower-monitor', before.redis['tower-monitor'], ['KEYS', '*'])).toEqual([]);

      const after: InfraCredentials = { ...before, redis: { ...before.redis, 'tower-slots': newInfraPassword() } };
      expect(await startServer(standaloneRedisSpec(root, port, after))).toBe('already-running');

      expect(await as(logger, 'tower-slots', after.redis['tower-slots'], ['PING'])).toBe('PONG');
      expect(await as(logger, 'tower-slots', before.redis['tower-slots'], ['PING'])).toBe('WRONGPASS');
      expect(await as(logger, 'tower-monitor', after.redis['tower-monitor'], ['KEYS', '*'])).toBe('NOPERM');
      expect(await as(logger, 'tower-retired', 'retired', ['PING'])).toBe('WRONGPASS');
      expect(await as(logger, 'tower-admin', admin, ['PING'])).toBe('PONG');
      // The rewritten redis.conf holds the same users for the next start.
      expect(fs.readFileSync(path.join(root, 'redis', 'redis.conf'), 'utf8')).not.toContain('tower-retired');
    } finally {
      await stopServer(first);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
