import { describe, expect, it } from 'vitest';
import { clientPart, Lifecycle, partOf, PartStartFailed, readinessOf, type Part } from './lifecycle.ts';
import { createLogger } from './logging.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A part that writes what happens to it in `order`. */
const recorded = (order: string[], name: string, stop: () => Promise<void> = async () => {}): Part => ({
  name,
  start: async () => void order.push(`start ${name}`),
  stop: async () => {
    order.push(`stop ${name}`);
    await stop();
  },
});

describe('Lifecycle', () => {
  it('starts parts in order and stops them once, in reverse, past failures and timeouts', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger);
    await lifecycle.start([
      recorded(order, 'clients'),
      recorded(order, 'producer', () => Promise.reject(new Error('broker gone'))),
      { ...recorded(order, 'consumer', () => new Promise(() => undefined)), stopTimeoutMs: 50 },
      recorded(order, 'http'),
    ]);
    await Promise.all([lifecycle.stop('SIGTERM'), lifecycle.stop('SIGINT')]);
    expect(order).toEqual(['start clients', 'start producer', 'start consumer', 'start http', 'stop http', 'stop consumer', 'stop producer', 'stop clients']);
    expect(lifecycle.isStopping).toBe(true);
  });

  it('a part that does not start: the error names it, the later ones are not started, the earlier ones stop', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger);
    const broken: Part = { name: 'check-in consumer', start: () => Promise.reject(new Error('no coordinator')), stop: async () => void order.push('stop broken') };
    const failure = await lifecycle.start([recorded(order, 'redis'), broken, recorded(order, 'http')]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PartStartFailed);
    expect((failure as Error).message).toBe('cannot start check-in consumer: no coordinator');
    await lifecycle.stop('start failed');
    expect(order).toEqual(['start redis', 'stop redis']);
  });

  it('a client that cannot connect names the dependency and the user, as main.ts writes it', async () => {
    const redis = clientPart('redis', { dependency: 'Redis', user: 'tower-slots', connect: () => Promise.reject(new Error('WRONGPASS invalid username-password pair')), close: async () => {}, ping: async () => {} });
    const failure = await new Lifecycle(logger).start([redis]).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('cannot connect to Redis as tower-slots: WRONGPASS invalid username-password pair');
    expect(readinessOf([redis, partOf('sweeper', { start() {}, stop() {} })]).map((check) => check.name)).toEqual(['redis']);
  });

  it('a stop during the start starts no further part and stops the one that was starting', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger);
    let connected!: () => void;
    const slow: Part = { name: 'kafka', start: () => new Promise<void>((resolve) => (connected = resolve)), stop: async () => void order.push('stop kafka') };
    const starting = lifecycle.start([recorded(order, 'redis'), slow, recorded(order, 'http')]);
    await new Promise((resolve) => setImmediate(resolve));
    const stopping = lifecycle.stop('SIGTERM');
    connected();
    await Promise.all([starting, stopping]);
    expect(order).toEqual(['start redis', 'stop kafka', 'stop redis']);
  });

  it('parts a test started one by one stop with the rest, in reverse of the list', async () => {
    const order: string[] = [];
    const parts = [recorded(order, 'history'), recorded(order, 'relay'), recorded(order, 'http')];
    await parts[1]!.start();
    await new Lifecycle(logger).adopt(parts).stop('test over');
    expect(order).toEqual(['start relay', 'stop http', 'stop relay', 'stop history']);
  });
});
