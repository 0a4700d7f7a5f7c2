import { describe, expect, it } from 'vitest';
import { Lifecycle } from './lifecycle.ts';
import { createLogger } from './logging.ts';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('Lifecycle', () => {
  it('runs shutdown steps once, in order, past failures and timeouts', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger)
      .onShutdown({ name: 'http', run: async () => void order.push('http') })
      .onShutdown({ name: 'stuck consumer', timeoutMs: 50, run: () => new Promise(() => undefined) })
      .onShutdown({ name: 'broken flush', run: async () => { order.push('flush'); throw new Error('broker gone'); } })
      .onShutdown({ name: 'clients', run: async () => void order.push('clients') });
    await Promise.all([lifecycle.stop('SIGTERM'), lifecycle.stop('SIGINT')]);
    expect(order).toEqual(['http', 'flush', 'clients']);
    expect(lifecycle.isStopping).toBe(true);
  });
});
