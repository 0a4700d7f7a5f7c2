import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { PartitionBatch, TruckEvent } from '@tower/shared';
import { sampleEvents } from '@tower/shared/testing';
import { CheckInMatcher } from './check-in.ts';
import { StoreUnavailable } from './desk-errors.ts';
import type { SlotDesk } from './desk.ts';

/** A batch of truck arrivals and border crossings (the events check-in acts on), as the consumer runner hands it over. */
function arrivals(count: number): PartitionBatch {
  const arrived = sampleEvents().filter((e): e is TruckEvent => e.type === 'truck.arrived' || e.type === 'truck.border-crossed').slice(0, count);
  return { topic: 'tower.trucks.v1', partition: 0, lastOffset: BigInt(count - 1), events: arrived.map((event, i) => ({ topic: 'tower.trucks.v1', partition: 0, offset: BigInt(i), ingestedAt: 0, family: 'truck', schemaVersion: 1, event })) };
}

/** A desk whose `arrive` and `cross` answer with `answer` for every truck. */
const deskAnswering = (answer: () => Promise<undefined>) => ({ arrive: answer, cross: answer }) as unknown as SlotDesk;

describe('check-in: the outcome of a batch of truck events', () => {
  it('ok once every event is matched', async () => {
    const seen: number[] = [];
    const matcher = new CheckInMatcher(deskAnswering(async () => void seen.push(1)), new Registry());
    expect(await matcher.handleBatch(arrivals(2))).toEqual({ kind: 'ok' });
    expect(seen).toHaveLength(2);
  });

  it('retry when the slot store or Kafka does not answer: the runner tries the batch again, nothing is dead-lettered', async () => {
    const unavailable = new StoreUnavailable('redis', 'the slot store (Redis) did not answer', 2);
    const matcher = new CheckInMatcher(deskAnswering(async () => { throw unavailable; }), new Registry());
    expect(await matcher.handleBatch(arrivals(2))).toEqual({ kind: 'retry', cause: unavailable });
  });

  it('an error it does not know is let through, for the runner to classify', async () => {
    const matcher = new CheckInMatcher(deskAnswering(async () => { throw new TypeError('a bug'); }), new Registry());
    await expect(matcher.handleBatch(arrivals(1))).rejects.toThrow('a bug');
  });
});
