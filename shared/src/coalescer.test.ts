import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer.ts';
import { mergeTopicMessages, type TopicMessages } from './kafka/client.ts';

const batchOf = (topic: string, ...values: string[]): TopicMessages[] => [{ topic, messages: values.map((value) => ({ key: null, value })) }];
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('merges the writes that wait behind an in-flight one (Kafka sends: one request per topic)', async () => {
    const requests: TopicMessages[][] = [];
    let release: () => void = () => undefined;
    const sender = new Coalescer<TopicMessages[]>(
      async (batches) => {
        requests.push(mergeTopicMessages(batches));
        if (requests.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      { maxInFlight: 1 },
    );
    const first = sender.submit(batchOf('a', '1'));
    await turn();
    const waiting = [sender.submit(batchOf('a', '2')), sender.submit(batchOf('b', '3')), sender.submit(batchOf('a', '4'))];
    release();
    await Promise.all([first, ...waiting]);
    expect(requests).toEqual([batchOf('a', '1'), [...batchOf('a', '2', '4'), ...batchOf('b', '3')]]);
  });

  it('rejects every caller whose item was in a failed write, and only those', async () => {
    let calls = 0;
    const sender = new Coalescer<string>(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('broker down');
      },
      { maxInFlight: 1 },
    );
    const results = await Promise.allSettled([sender.submit('1'), sender.submit('2')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(sender.submit('3')).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('writes the items of a merged write refused for its data again one by one, so only the bad item’s caller is rejected (splitOn)', async () => {
    const writes: string[][] = [];
    const inserter = new Coalescer<string>(
      async (items) => {
        writes.push(items);
        if (items.includes('poison')) throw new Error('Code: 72, e.displayText() = DB::Exception: Unsigned type must not contain');
      },
      { maxInFlight: 1, splitOn: (error) => /Code: 72/.test((error as Error).message) },
    );
    const results = await Promise.allSettled(['good-1', 'poison', 'good-2'].map((item) => inserter.submit(item)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(writes).toEqual([['good-1', 'poison', 'good-2'], ['good-1'], ['poison'], ['good-2']]);
  });

  it('caps the weight of one write, but never holds back a single heavy item', async () => {
    const writes: number[][] = [];
    const inserter = new Coalescer<number[]>(async (items) => void writes.push(items.flat()), { maxInFlight: 1, maxWeight: 5, weightOf: (rows) => rows.length });
    await Promise.all([inserter.submit([1, 2, 3]), inserter.submit([4, 5]), inserter.submit([6]), inserter.submit([7, 8, 9, 10, 11, 12, 13])]);
    expect(writes).toEqual([[1, 2, 3, 4, 5], [6], [7, 8, 9, 10, 11, 12, 13]]);
  });

  it('rejects a caller that gives up at once; its item leaves the queue, but one already being written stays in that write; drain() waits for the rest', async () => {
    const writes: string[][] = [];
    let release: () => void = () => undefined;
    const sender = new Coalescer<string>(
      async (items) => {
        writes.push(items);
        if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      { maxInFlight: 1 },
    );
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = sender.submit('in flight', inFlight.signal);
    await turn();
    const second = sender.submit('queued', queued.signal);
    const third = sender.submit('kept');
    inFlight.abort(new Error('gave up'));
    queued.abort(new Error('gave up too'));
    await expect(first).rejects.toThrow('gave up');
    await expect(second).rejects.toThrow('gave up too');
    let drained = false;
    const drain = sender.drain().then(() => (drained = true));
    await turn();
    expect(drained).toBe(false);
    release();
    await drain;
    await expect(third).resolves.toBeUndefined();
    expect(writes).toEqual([['in flight'], ['kept']]);
  });
});
