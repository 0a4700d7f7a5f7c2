/** The ingest API's eventId record on the test Redis, for integration tests that build the app. */
import { inject } from 'vitest';
import type { Logger } from '@tower/shared';
import { testRedis, uniqueName } from '@tower/shared/testing';
import { RedisEventIdLedger } from './event-id-ledger.ts';

/**
 * A ledger on the integration-test Redis under a key prefix of its own, so tests never
 * see each other's ids. Its keys expire after an hour (a test's ids are random UUIDs).
 */
export async function testEventIdLedger(logger: Logger): Promise<{ ledger: RedisEventIdLedger; close(): Promise<void> }> {
  const redis = testRedis(inject('infra'), uniqueName('ingest-event-ids'), logger);
  redis.options.keyPrefix = `${uniqueName('test')}:`;
  await redis.connect();
  return { ledger: new RedisEventIdLedger(redis, 3600), close: async () => void (await redis.quit()) };
}
