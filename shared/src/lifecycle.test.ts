import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { clientPart, Lifecycle, partOf, PartStartFailed, readinessOf, StartInterrupted, type Part } from './lifecycle.ts';
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

  it('a part that does not start: the error names it, the later ones are not started, it (it may have half-started) and the earlier ones stop', async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger);
    const broken: Part = { name: 'check-in consumer', start: () => Promise.reject(new Error('no coordinator')), stop: async () => void order.push('stop broken') };
    const failure = await lifecycle.start([recorded(order, 'redis'), broken, recorded(order, 'http')]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PartStartFailed);
    expect((failure as Error).message).toBe('cannot start check-in consumer: no coordinator');
    await lifecycle.stop('start failed');
    expect(order).toEqual(['start redis', 'stop broken', 'stop redis']);
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
    const starting = lifecycle.start([recorded(order, 'redis'), slow, recorded(order, 'http')]).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    const stopping = lifecycle.stop('SIGTERM');
    connected();
    await stopping;
    expect(order).toEqual(['start redis', 'stop kafka', 'stop redis']);
    // The start does not end as if the service were ready.
    expect(await starting).toBeInstanceOf(StartInterrupted);
  });

  it('a part that ends its start after the stop stopped waiting for it is stopped then', { timeout: 30_000 }, async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger, { startWaitMs: 20 });
    let connected: (() => void) | undefined;
    const slow: Part = { name: 'kafka', start: () => new Promise<void>((resolve) => (connected = resolve)), stop: async () => void order.push('stop kafka') };
    const starting = lifecycle.start([recorded(order, 'redis'), slow, recorded(order, 'http')]).catch((e: unknown) => e);
    while (!connected) await new Promise((resolve) => setImmediate(resolve));
    await lifecycle.stop('SIGTERM');
    expect(order).toEqual(['start redis', 'stop redis']);
    connected();
    expect(await starting).toBeInstanceOf(StartInterrupted);
    expect(order).toEqual(['start redis', 'stop redis', 'stop kafka']);
  });

  it('startOrExit stopped during the start exits once stopped (code 0), as the signal handler would, instead of returning ready', async () => {
    const lifecycle = new Lifecycle(logger);
    const exits: number[] = [];
    let connected: (() => void) | undefined;
    const slow: Part = { name: 'kafka', start: () => new Promise<void>((resolve) => (connected = resolve)), stop: async () => {} };
    const running = lifecycle.startOrExit('test', [slow, recorded([], 'http')], (code) => exits.push(code));
    while (!connected) await new Promise((resolve) => setImmediate(resolve));
    const stopping = lifecycle.stop('SIGTERM');
    connected();
    await Promise.all([running, stopping]);
    expect(exits).toEqual([0]);
  });

  it('a whole stop ends by its deadline, however long the parts take: the steps left are skipped', { timeout: 30_000 }, async () => {
    const order: string[] = [];
    const lifecycle = new Lifecycle(logger, { stopDeadlineMs: 200 });
    await lifecycle.start([recorded(order, 'clients'), recorded(order, 'consumer', () => new Promise(() => undefined))]);
    const began = Date.now();
    await lifecycle.stop('SIGTERM');
    expect(Date.now() - began).toBeLessThan(5000);
    expect(order).toEqual(['start clients', 'start consumer', 'stop consumer']);
  });

  it('parts a test started one by one stop with the rest, in reverse of the list', async () => {
    const order: string[] = [];
    const parts = [recorded(order, 'history'), recorded(order, 'relay'), recorded(order, 'http')];
    await parts[1]!.start();
    await new Lifecycle(logger).adopt(parts).stop('test over');
    expect(order).toEqual(['start relay', 'stop http', 'stop relay', 'stop history']);
  });
});

/**
 * A process with a Lifecycle whose one part's stop waits for the test (`finish` on its
 * stdin; `crash` throws an uncaught exception meanwhile). It prints `ready`, `stopping`,
 * `stopped`, `exit <code>` and the Lifecycle's log (JSON lines).
 */
const signalsScript = `
import { Lifecycle } from ${JSON.stringify(path.join(import.meta.dirname, 'lifecycle.ts'))};
import { createLogger } from ${JSON.stringify(path.join(import.meta.dirname, 'logging.ts'))};
const say = (line) => process.stdout.write(line + '\\n');
const lifecycle = new Lifecycle(createLogger({ service: 'signals', level: 'info' }));
lifecycle.installSignalHandlers((code) => { say('exit ' + code); process.exit(code); });
let finish;
process.stdin.setEncoding('utf8').on('data', (text) => {
  if (text.includes('crash')) setImmediate(() => { throw new Error('socket closed mid-drain'); });
  if (text.includes('finish')) finish();
});
await lifecycle.start([{ name: 'consumer', start: async () => {}, stop: () => new Promise((resolve) => { finish = () => { say('stopped'); resolve(); }; say('stopping'); }) }]);
say('ready');
`;

/** Runs the script; `until(text)` waits for a line containing it, and fails at once if the process ends first. */
function signalsProcess() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'));
  const file = path.join(directory, 'signals.mts');
  fs.writeFileSync(file, signalsScript);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(directory, { recursive: true, force: true });
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const until = async (text: string): Promise<void> => {
    while (!output.includes(text)) {
      const gone = await Promise.race([ended.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20))]);
      if (gone && !output.includes(text)) throw new Error(`the process ended before "${text}":\n${output}`);
    }
  };
  return { child, until, ended, output: () => output };
}

describe('Lifecycle signal handlers (a real process)', () => {
  it('a second SIGINT while stopping (npm forwards one Ctrl-C twice) is logged and ignored: the stop finishes and the process exits 0', { timeout: 60_000 }, async () => {
    const run = signalsProcess();
    await run.until('ready');
    run.child.kill('SIGINT');
    await run.until('stopping');
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    await run.until('already stopping: ignored');
    run.child.stdin.write('finish\n');
    expect(await run.ended, run.output()).toEqual({ code: 0, signal: null });
    expect(run.output()).toMatch(/^stopped$[\s\S]*^exit 0$/m);
  });

  it('a second uncaught exception while stopping after the first is logged, the stop finishes, and the process exits 1', { timeout: 60_000 }, async () => {
    const run = signalsProcess();
    await run.until('ready');
    run.child.stdin.write('crash\n');
    await run.until('stopping');
    run.child.stdin.write('crash\n');
    await run.until('error while stopping');
    run.child.stdin.write('finish\n');
    expect(await run.ended, run.output()).toEqual({ code: 1, signal: null });
    expect(run.output()).toMatch(/^stopped$[\s\S]*^exit 1$/m);
  });
});
