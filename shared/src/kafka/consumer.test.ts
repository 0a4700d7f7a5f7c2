import type { EachBatchPayload, Kafka } from 'kafkajs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventually, sleep } from '../testing/eventually.ts';
import { batchHandled, type ConsumerHandler } from './batch.ts';
import type { TowerProducer } from './client.ts';
import { ConsumerRunner, type GroupMode } from './consumer.ts';

/** A KafkaJS consumer that does nothing but count its runs and let the test fire its events and hand it a batch; `connecting` holds its connect() until released. */
function fakeKafka() {
  const listeners = new Map<string, ((event: { payload: Record<string, unknown> }) => void)[]>();
  const calls = { run: 0, disconnect: 0, connect: 0 };
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  let connecting: Promise<void> | undefined;
  const consumer = {
    events: { GROUP_JOIN: 'group_join', FETCH: 'fetch', CRASH: 'crash' },
    on: (name: string, listener: (event: { payload: Record<string, unknown> }) => void) => void listeners.set(name, [...(listeners.get(name) ?? []), listener]),
    connect: async () => {
      calls.connect += 1;
      await connecting;
    },
    subscribe: async () => {},
    run: async (config: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
      calls.run += 1;
      eachBatch = config.eachBatch;
    },
    disconnect: async () => void (calls.disconnect += 1),
    commitOffsets: async () => {},
  };
  const fire = (name: string, payload: Record<string, unknown> = {}) => (listeners.get(name) ?? []).forEach((listener) => listener({ payload }));
  /** One message at offset 0 of t/0, handled through the runner's eachBatch. */
  const batch = (heartbeat = async () => {}) =>
    eachBatch!({
      batch: { topic: 't', partition: 0, messages: [{ key: null, value: Buffer.from('m'), offset: '0', timestamp: '0', attributes: 0, headers: {} }], lastOffset: () => '0' },
      heartbeat,
      isRunning: () => true,
      isStale: () => false,
      resolveOffset: () => {},
    } as unknown as EachBatchPayload);
  const holdConnect = () => {
    let release!: () => void;
    connecting = new Promise<void>((resolve) => (release = resolve));
    return release;
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, calls, fire, batch, holdConnect };
}

function runnerOn(kafka: Kafka, retry = { initialMs: 5, maxMs: 20 }, mode: GroupMode = { kind: 'group', groupId: 'g' }, handler: ConsumerHandler = { handleBatch: async () => batchHandled }) {
  return new ConsumerRunner({ kafka, mode, topics: ['t'], decoder: (message) => ({ ok: true, value: { offset: BigInt(message.offset) } }), logger: pino({ level: 'silent' }), metrics: new Registry(), retry }, handler);
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

  it('stop() while a restart is inside connect() leaves nothing consuming: the restart disconnects instead of subscribing and running', async () => {
    const { kafka, calls, fire, holdConnect } = fakeKafka();
    const runner = runnerOn(kafka);
    await runner.start();
    const release = holdConnect();
    fire('crash', { error: new Error('not authorized'), restart: false });
    await eventually(async () => (calls.connect === 2 ? true : undefined), { what: 'the restart connecting' });
    await runner.stop();
    release();
    await eventually(async () => (calls.run + calls.disconnect >= 3 ? true : undefined), { what: 'the restart running or disconnecting' });
    expect([calls.run, calls.disconnect]).toEqual([1, 2]);
  });
});

describe('consumer runner: crashes in a row', () => {
  afterEach(() => void vi.useRealTimers());

  it('a crash right after each join backs off further; the delay and the failing-since reset only once a batch is through or it ran steadily for a minute', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { kafka, calls, fire, batch } = fakeKafka();
    const runner = runnerOn(kafka, { initialMs: 100, maxMs: 1000 });
    await runner.start();
    const joined = () => {
      fire('group_join', { memberAssignment: { t: [0] } });
      fire('fetch');
    };
    const crash = () => fire('crash', { error: new Error('Not authorized to access group'), restart: false });
    const runsAfter = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return calls.run;
    };
    joined();
    const firstCrashAt = Date.now();
    crash();
    expect(await runsAfter(100)).toBe(2);
    joined();
    expect(runner.ready).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    crash(); // right after the join: the same failure again
    expect(runner.health().failingSince).toBe(firstCrashAt);
    expect(await runsAfter(100)).toBe(2); // not the initial 100 ms again: 200
    expect(await runsAfter(100)).toBe(3);
    joined();
    crash();
    expect(await runsAfter(399)).toBe(3); // 400 now
    expect(await runsAfter(1)).toBe(4);
    // A batch through: steady again.
    joined();
    await batch();
    crash();
    expect(runner.health().failingSince).toBe(Date.now());
    expect(await runsAfter(100)).toBe(5);
    // A crash more, then a minute without one after the join: steady again too.
    joined();
    crash();
    expect(await runsAfter(200)).toBe(6);
    joined();
    await vi.advanceTimersByTimeAsync(60_000);
    crash();
    expect(await runsAfter(100)).toBe(7);
    await runner.stop();
  });

  it('a topic compressed with a codec KafkaJS cannot read says so, and what to do, in readiness', async () => {
    const { kafka, fire } = fakeKafka();
    const runner = runnerOn(kafka);
    await runner.start();
    fire('group_join', { memberAssignment: { t: [0] } });
    fire('fetch');
    const error = Object.assign(new Error('ZSTD compression not implemented'), { name: 'KafkaJSNotImplemented' });
    fire('crash', { error, restart: false });
    expect(() => runner.checkReady()).toThrow(/ZSTD compression not implemented: .*compression.type back to producer/);
    await runner.stop();
  });
});

describe('consumer runner: dead letters', () => {
  afterEach(() => void vi.useRealTimers());

  it('heartbeats while a dead-letter send is awaited: with the producer retrying, it may outlast the session', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { kafka, batch } = fakeKafka();
    let release: (() => void) | undefined;
    const producer = { send: () => new Promise<void>((resolve) => (release = resolve)) } as unknown as TowerProducer;
    const runner = runnerOn(kafka, undefined, { kind: 'group', groupId: 'g', deadLetters: { topic: 'dlq', producer } }, { handleBatch: async (b) => ({ kind: 'dead-letter', messages: [{ offset: b.events[0]!.offset, reason: 'refused', detail: 'by the test' }] }) });
    await runner.start();
    let beats = 0;
    const handling = batch(async () => void (beats += 1));
    await vi.advanceTimersByTimeAsync(40_000);
    const beatsWhileSending = beats;
    release!();
    await handling;
    expect(beatsWhileSending).toBeGreaterThanOrEqual(30);
    await runner.stop();
  });
});
