import type { KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchHandled, BatchProcessor, ConsumerMetrics, type BatchScope, type ConsumerHandler, type HandlerOutcome, type MessageDecoder, type PartitionBatch } from './batch.ts';

/** A message decodes to its text; "garbled" does not. */
interface Note {
  offset: bigint;
  text: string;
}

const decoder: MessageDecoder<Note> = (message) => {
  const text = message.value?.toString() ?? '';
  return text === 'garbled' ? { ok: false, reason: 'garbled', detail: 'not a note' } : { ok: true, value: { offset: BigInt(message.offset), text } };
};

function scopeOf(texts: string[]): BatchScope {
  const messages: KafkaMessage[] = texts.map((text, offset) => ({ key: null, value: Buffer.from(text), offset: String(offset), timestamp: '0', attributes: 0, headers: {} }));
  return { topic: 'notes', partition: 0, messages, lastOffset: BigInt(texts.length - 1), heartbeat: async () => {}, gone: () => false };
}

/** A processor around `handle`, recording the texts of every batch (or part) it is given. */
function processorOf(handle: (batch: PartitionBatch<Note>, call: number) => Promise<HandlerOutcome>, canDeadLetter = true, retry = { initialMs: 1, maxMs: 2 }) {
  const calls: string[][] = [];
  const handler: ConsumerHandler<Note> = {
    handleBatch: (batch) => {
      calls.push(batch.events.map((e) => e.text));
      return handle(batch, calls.length);
    },
  };
  const processor = new BatchProcessor({ decoder, handler, logger: pino({ level: 'silent' }), metrics: ConsumerMetrics.of(new Registry()), retry, unknownAttempts: 2, unknownFloorMs: 0, canDeadLetter });
  return { processor, calls };
}

const letters = (result: Awaited<ReturnType<BatchProcessor<Note>['process']>>) =>
  result.kind === 'done' ? result.letters.map((l) => [l.message.offset, l.kind, l.reason]) : result.kind;

describe('batch processor: acting on the handler’s outcome', () => {
  it('ok: every decoded message handled; what does not decode leaves as a decode letter, in offset order', async () => {
    const { processor, calls } = processorOf(async () => batchHandled);
    const result = await processor.process(scopeOf(['a', 'garbled', 'c']));
    expect(calls).toEqual([['a', 'c']]);
    expect(letters(result)).toEqual([['1', 'decode', 'garbled']]);
    expect(result).toMatchObject({ handled: 2 });
  });

  it('dead-letter: the listed messages leave with their reasons, the rest is handled, nothing is tried again', async () => {
    const { processor, calls } = processorOf(async (batch) => ({ kind: 'dead-letter', messages: [{ offset: batch.events[1]!.offset, reason: 'refused-by-rule', detail: 'b is refused' }] }));
    const result = await processor.process(scopeOf(['a', 'b', 'c']));
    expect(calls).toHaveLength(1);
    expect(letters(result)).toEqual([['1', 'rejected', 'refused-by-rule']]);
    expect(result).toMatchObject({ handled: 2 });
  });

  it('retry: the whole batch again after a backoff (never split, never dead-lettered), failing in health meanwhile, healthy once it succeeds', async () => {
    const health: (number | undefined)[] = [];
    const { processor, calls } = processorOf(async (_batch, call) => {
      health.push(processor.health().failingSince);
      return call <= 3 ? { kind: 'retry', cause: new Error('redis away') } : batchHandled;
    });
    const result = await processor.process(scopeOf(['a', 'b', 'c']));
    expect(calls).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
    expect(health.map((since) => since !== undefined)).toEqual([false, true, true, true]);
    expect(letters(result)).toEqual([]);
    expect(processor.health()).toEqual({});
  });

  it('a throw the handler did not foresee is classified: data refused splits the batch down to the message alone, which leaves with the error', async () => {
    const { processor, calls } = processorOf(async (batch) => {
      if (batch.events.some((e) => e.text === 'poison')) throw new Error('Code: 72, e.displayText() = DB::Exception: Cannot parse input');
      return batchHandled;
    });
    const result = await processor.process(scopeOf(['a', 'b', 'poison', 'd']));
    expect(letters(result)).toEqual([['2', 'permanent', 'handler-permanent']]);
    expect(calls).toEqual([['a', 'b', 'poison', 'd'], ['a', 'b'], ['poison', 'd'], ['poison'], ['d']]);
  });

  it('without a place for dead letters, an error that would dead-letter is retried instead, and a rejection is a bug', async () => {
    const { processor, calls } = processorOf(async (_batch, call) => {
      if (call <= 2) throw new Error('Code: 72, e.displayText() = DB::Exception: Cannot parse input');
      return batchHandled;
    }, false);
    expect(letters(await processor.process(scopeOf(['a', 'b'])))).toEqual([]);
    expect(calls).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    const rejecting = processorOf(async (batch) => ({ kind: 'dead-letter', messages: [{ offset: batch.events[0]!.offset, reason: 'no', detail: 'no' }] }), false);
    await expect(rejecting.processor.process(scopeOf(['a']))).rejects.toThrow(/nowhere to dead-letter/);
  });

  it('a partition that goes away while its batch fails is left to its next reader', async () => {
    const { processor } = processorOf(async () => ({ kind: 'retry', cause: new Error('away') }));
    let checks = 0;
    const scope = { ...scopeOf(['a']), gone: () => ++checks > 2 };
    expect(await processor.process(scope)).toEqual({ kind: 'gone' });
  });
});

describe('batch processor: keeping the membership, letting go', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearInterval', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('heartbeats every second while a slow handler is awaited (KafkaJS has no heartbeat timer): a handler slower than the session keeps the member', async () => {
    let release: (() => void) | undefined;
    const { processor } = processorOf(() => new Promise<HandlerOutcome>((resolve) => (release = () => resolve(batchHandled))));
    let beats = 0;
    const processing = processor.process({ ...scopeOf(['a']), heartbeat: async () => void (beats += 1) });
    await vi.advanceTimersByTimeAsync(40_000); // longer than the default session of 30 s
    const beatsWhileHandling = beats;
    release!();
    expect(await processing).toMatchObject({ kind: 'done', handled: 1 });
    expect(beatsWhileHandling).toBeGreaterThanOrEqual(30);
    await vi.advanceTimersByTimeAsync(5000);
    expect(beats).toBe(beatsWhileHandling); // and stops once the handler is done
  });

  it('a backoff ends as soon as the partition goes away: stop() does not wait it out', async () => {
    const { processor, calls } = processorOf(async () => ({ kind: 'retry', cause: new Error('away') }), true, { initialMs: 10_000, maxMs: 10_000 });
    let gone = false;
    let result: unknown;
    void processor.process({ ...scopeOf(['a']), gone: () => gone }).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(1000); // into the first backoff of 10 s
    expect(calls).toHaveLength(1);
    gone = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(result).toEqual({ kind: 'gone' });
    expect(calls).toHaveLength(1);
  });
});
