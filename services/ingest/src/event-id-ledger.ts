import { DependencyUnavailableProblem, type Redis } from '@tower/shared';
import type { EventIdentityLedger, IdentityClaim } from './domain/event-identity.ts';

/**
 * The record of eventId → content digest in Redis, one key per id
 * (`ingest:event:<lower-case id>`; a UUID is case-insensitive) expiring after the
 * retention. One pipelined round trip per batch: `SET key digest NX GET EX ttl` binds
 * a new id and answers the digest already bound to a known one, atomically, so two
 * ingest processes racing on one id agree on its first content.
 *
 * The binding stays when Kafka then fails (503): the write may still land, so the id
 * must keep its content; the device's retry of the same content is accepted.
 */
export class RedisEventIdLedger implements EventIdentityLedger {
  constructor(
    private readonly redis: Redis,
    private readonly retentionSeconds: number,
  ) {}

  async claim(entries: readonly { eventId: string; digest: string }[]): Promise<IdentityClaim[]> {
    const pipeline = this.redis.pipeline();
    for (const { eventId, digest } of entries) pipeline.set(`ingest:event:${eventId.toLowerCase()}`, digest, 'EX', this.retentionSeconds, 'NX', 'GET');
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await pipeline.exec();
    } catch (error) {
      throw unavailable(error as Error);
    }
    return entries.map(({ digest }, i) => {
      const [error, before] = replies?.[i] ?? [new Error('no reply'), null];
      if (error) throw unavailable(error);
      return before === null ? 'first' : before === digest ? 'same' : 'conflict';
    });
  }
}

function unavailable(error: Error): DependencyUnavailableProblem {
  return new DependencyUnavailableProblem('redis', `Redis did not answer the eventId check (${error.message}); nothing was accepted, send the batch again`, 5);
}
