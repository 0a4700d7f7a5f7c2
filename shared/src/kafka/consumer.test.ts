import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../testing/eventually.ts';
import { batchHandled } from './batch.ts';
import { ConsumerRunner } from './consumer.ts';

/** A KafkaJS consumer that does nothing but count its runs and let the test fire its events. */
function fakeKafka() {
  const listeners = new Map<string, ((event: { payload: Record<string, unknown> }) => void)[]>();
  const calls = { run: 0, disconnect: 0 };
  const consumer = {
    events: { GROUP_JOIN: 'group_join', FETCH: 'fetch', CRASH: 'crash' },
    on: (name: string, listener: (event: { payload: Record<string, unknown> }) => void) => void listeners.set(name, [...(listeners.get(name) ?? []), listener]),
    connect: async () => {},
    subscribe: async () => {},
    run: async () => void (calls.run += 1),
    disconnect: async () => void (calls.disconnect += 1),
    commitOffsets: async () => {},
  };
  const fire = (name: string, payload: Record<string, unknown> = {}) => (listeners.get(name) ?? []).forEach((listener) => listener({ payload }));
  return { kafka: { consumer: () => consumer } as unknown as Kafka, calls, fire };
}

function runnerOn(kafka: Kafka) {
  return new ConsumerRunner(
    { kafka, mode: { kind: 'group', groupId: 'g' }, topics: ['t'], decoder: (message) => ({ ok: true, value: { offset: BigInt(message.offset) } }), logger: pino({ level: 'silent' }), metrics: new Registry(), retry: { initialMs: 5, maxMs: 20 } },
    { handleBatch: async () => batchHandled },
  );
}

describe('consumer runner: crashes', () => {
  it('is ready only once its first fetch placed it, not at the join', async () => {
    const { kafka, fire } = fakeKafka();
    const runner = runnerOn(kafka);
    await runner.start();
    fire('group_join', { memberAssignment: { t: [0] } });
    expect(() => runner.checkReady()).toThrow(/not yet reading/);
    fire('fetch');
    expect(runner.ready).toBe(true);
    await runner.stop();
  });

  it('a crash KafkaJS gives up on is restarted here with backoff, unready meanwhile, ready again after the next join and fetch', async () => {
    const { kafka, calls, fire } = fakeKafka();
    const runner = runnerOn(kafka);
    await runner.start();
    fire('group_join', { memberAssignment: { t: [0] } });
    fire('fetch');
    fire('crash', { error: new Error('There is no leader for this topic-partition'), restart: false });
    expect(() => runner.checkReady()).toThrow(/processing has failed since .*no leader/);
    await eventually(async () => (calls.run === 2 ? true : undefined), { timeoutMs: 5000, what: 'the consumer run again' });
    expect(runner.health()).toMatchObject({ running: true, reading: false, lastError: 'There is no leader for this topic-partition' });
    fire('group_join', { memberAssignment: { t: [0] } });
    fire('fetch');
    expect(runner.health()).toEqual({ running: true, reading: true });
    await runner.stop();
  });

  it('a crash KafkaJS restarts itself is not restarted twice; a stopped runner restarts nothing', async () => {
    const { kafka, calls, fire } = fakeKafka();
    const runner = runnerOn(kafka);
    await runner.start();
    fire('crash', { error: new Error('broker away'), restart: true });
    await sleep(50); // ten times the restart delay
    expect(calls.run).toBe(1);
    expect(runner.ready).toBe(false);
    fire('crash', { error: new Error('broker away'), restart: false });
    await runner.stop();
    await sleep(50); // ten times the restart delay
    expect([calls.run, calls.disconnect]).toEqual([1, 1]);
    expect(runner.health().running).toBe(false);
  });
});
