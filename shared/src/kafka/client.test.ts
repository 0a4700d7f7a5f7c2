import { describe, expect, it } from 'vitest';
import { CoalescingSender, type TopicMessages } from './client.ts';

const batchOf = (topic: string, ...values: string[]): TopicMessages[] => [{ topic, messages: values.map((value) => ({ key: null, value })) }];

describe('CoalescingSender', () => {
  it('merges the sends that wait behind an in-flight request into one request per topic', async () => {
    const requests: TopicMessages[][] = [];
    let release: () => void = () => undefined;
    const sender = new CoalescingSender(async (batch) => {
      requests.push(batch);
      if (requests.length === 1) await new Promise<void>((resolve) => (release = resolve));
    }, 1);
    const first = sender.send(batchOf('a', '1'));
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [sender.send(batchOf('a', '2')), sender.send(batchOf('b', '3')), sender.send(batchOf('a', '4'))];
    release();
    await Promise.all([first, ...waiting]);
    expect(requests).toEqual([
      batchOf('a', '1'),
      [...batchOf('a', '2', '4'), ...batchOf('b', '3')],
    ]);
  });

  it('rejects every caller whose messages were in a failed request, and only those', async () => {
    let calls = 0;
    const sender = new CoalescingSender(async () => {
      calls += 1;
      if (calls === 1) throw new Error('broker down');
    }, 1);
    const failed = [sender.send(batchOf('a', '1')), sender.send(batchOf('a', '2'))];
    const results = await Promise.allSettled(failed);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(sender.send(batchOf('a', '3'))).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
