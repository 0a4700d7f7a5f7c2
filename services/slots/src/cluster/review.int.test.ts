/**
 * The slots API in two processes, as clients and operators meet it (issue 19, item 4's
 * review): a firm on one keep-alive connection has its key's whole budget, and never more
 * with connections at several processes; the API processes start once the duties process
 * is ready; a scrape while a process starts again answers with the processes that did
 * (and says how many); a SIGTERM sent to every process at once (a control group, Ctrl-C)
 * stops the API processes first, then the duties process, and clients on keep-alive
 * connections under load see answers and refused connects, at most one keep-alive
 * connection reset (a write on an idle socket as its grace ends).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { connectRedis } from '@tower/shared';
import { eventually, test, testRedis } from '@tower/shared/testing';
import { readDemoCredentials } from '../../../../infra/provision/credentials.ts';
import { exited, startServices, type Running } from '../../../../test/support/service-processes.ts';
import { budgetKeyOf } from '../budget.ts';
import { processesOf } from './test-processes.ts';

interface Answer {
  status: number;
  text: string;
  connection: string | undefined;
}

/** A request that failed, and whether it went on a keep-alive connection used before (else on one opened for it). */
type CallError = NodeJS.ErrnoException & { reusedSocket?: boolean };

/** One request through `agent` (keep-alive). */
function call(agent: http.Agent, port: number, route: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: route, agent, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, connection: response.headers.connection }));
    });
    request.on('error', (error: CallError) => reject(Object.assign(error, { reusedSocket: request.reusedSocket })));
    request.end();
  });
}

const logLines = (running: Running) =>
  running
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; role?: string; process?: string; time: string; answered?: number });

const gauge = (metrics: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics)?.[1] ?? NaN);

describe('the slots API in two processes, the review’s findings', () => {
  test('keep-alive budgets are whole, API after duties, scrapes while starting, a group SIGTERM drains without resets', { timeout: 300_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'slots-review-'));
    const env = { SLOTS_API_PROCESSES: '2', RATE_PER_SECOND: '1', RATE_BURST: '100', LOG_LEVEL: 'info', CONSUMER_GROUP_PREFIX: `tower-slots-review-${Date.now().toString(36)}` };
    const services = await startServices(infra, directory, logger, ['slots'], env);
    const slots = services.running['slots']!;
    const primary = slots.child.pid!;
    const agents: http.Agent[] = [];
    const keepAlive = (maxSockets: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets });
      agents.push(agent);
      return agent;
    };
    try {
      // Three keys, each with a budget of its own.
      const access = readDemoCredentials(directory).access;
      const [single, several] = access.filter((a) => a.role === 'firm');
      const loader = access.find((a) => a.role === 'operator');
      expect([single, several, loader].every(Boolean), 'two firms’ keys and an operator token').toBe(true);
      // The test servers' Redis is kept between runs: these keys' buckets start full.
      const redis = testRedis(infra, 'slots-review', logger);
      await connectRedis(redis);
      await redis.del(budgetKeyOf(single!.id), budgetKeyOf(several!.id));
      await redis.quit();

      // The API processes started once the duties process was ready (its fleet adoption done).
      const started = logLines(slots);
      const dutiesReady = started.find((l) => l.msg === 'slots ready' && l.process === 'duties 0');
      const firstApi = started.find((l) => l.msg === 'slots process started' && l.role === 'api');
      expect(dutiesReady, 'the duties process said ready').toBeDefined();
      expect.soft(Date.parse(firstApi!.time), 'the first API process started after the duties process was ready').toBeGreaterThanOrEqual(Date.parse(dutiesReady!.time));

      // One keep-alive connection meets one process: it still has the key's whole burst (100), plus what refilled meanwhile.
      const one = keepAlive(1);
      let began = Date.now();
      let allowed = 0;
      for (let i = 0; i < 150; i++) if ((await call(one, slots.port, '/v1/fleet/trucks', single!.token)).status !== 429) allowed++;
      expect.soft(allowed, 'one keep-alive connection: the whole burst').toBeGreaterThanOrEqual(100);
      expect(allowed).toBeLessThanOrEqual(100 + Math.ceil((Date.now() - began) / 1000) + 1);

      // Keep-alive connections at both processes: never more than the whole budget.
      const four = keepAlive(4);
      began = Date.now();
      const answers: Answer[] = [];
      for (let i = 0; i < 200; i += 20) answers.push(...(await Promise.all(Array.from({ length: 20 }, () => call(four, slots.port, '/v1/fleet/trucks', several!.token)))));
      const served = answers.filter((a) => a.status !== 429).length;
      expect.soft(served, 'keep-alive connections at both processes: the whole burst').toBeGreaterThanOrEqual(100);
      expect(served).toBeLessThanOrEqual(100 + Math.ceil((Date.now() - began) / 1000) + 1);

      // A scrape while API process 1 starts again answers, without it, and says how many processes answered.
      const scraper = keepAlive(1);
      // Each process has 2 s to answer a scrape; on a busy machine one may miss it, and the next scrape asks again.
      await eventually(
        async () => {
          const full = await call(scraper, slots.port, '/metrics');
          const answered = gauge(full.text, 'tower_slots_processes_answered');
          if (full.status !== 200 || answered !== 3) throw new Error(`the last scrape answered ${full.status}, saying ${answered} processes answered`);
          return true;
        },
        { timeoutMs: 60_000, what: 'a scrape that says all three processes answered' },
      );
      const victim = processesOf(primary).find((p) => p.role === 'api' && p.index === '1')!;
      process.kill(victim.pid, 'SIGKILL');
      const statuses: number[] = [];
      let partial = 0;
      await eventually(
        async () => {
          const scrape = await call(scraper, slots.port, '/metrics');
          statuses.push(scrape.status);
          const answered = gauge(scrape.text, 'tower_slots_processes_answered');
          if (answered === 2) {
            partial++;
            expect.soft(gauge(scrape.text, 'tower_slots_processes'), 'the processes a scrape asked').toBe(3);
          }
          const restarted = processesOf(primary).some((p) => p.role === 'api' && p.index === '1' && p.pid !== victim.pid);
          // Done once the new process answers scrapes (or, without the gauge, once a scrape answers after its start).
          return restarted && (answered === 3 || (Number.isNaN(answered) && scrape.status === 200)) ? true : undefined;
        },
        { timeoutMs: 90_000, what: 'API process 1 started again and answering scrapes' },
      );
      expect.soft(statuses.filter((status) => status !== 200), 'every scrape while API process 1 was away or starting answered').toEqual([]);
      expect.soft(partial, 'scrapes answered without API process 1').toBeGreaterThan(0);

      // Keep-alive clients under load, then SIGTERM to every process at once (as a control group or Ctrl-C sends it).
      const load = keepAlive(8);
      const outcome = { answered: 0, closing: 0, refused: 0, reset: [] as string[], resetConnecting: [] as string[] };
      let stopped = false;
      const client = async () => {
        while (!stopped) {
          try {
            const answer = await call(load, slots.port, '/v1/conditions', loader!.token);
            outcome.answered++;
            if (answer.connection === 'close') outcome.closing++;
          } catch (error) {
            const { code, message, reusedSocket } = error as CallError;
            if (code === 'ECONNREFUSED') {
              outcome.refused++;
              await new Promise((resolve) => setTimeout(resolve, 20));
            } else (reusedSocket ? outcome.reset : outcome.resetConnecting).push(`${code ?? ''} ${message}`);
          }
        }
      };
      const clients = Array.from({ length: 8 }, client);
      await eventually(async () => (outcome.answered >= 200 ? true : undefined), { timeoutMs: 60_000, what: 'load on the keep-alive connections' });
      const exit = exited(slots);
      for (const pid of [primary, ...processesOf(primary).map((p) => p.pid)]) process.kill(pid, 'SIGTERM');
      expect(await exit).toBe(0);
      stopped = true;
      await Promise.all(clients);
      logger.info(outcome, 'keep-alive clients through the stop');
      // Before the drain every one of the 8 keep-alive connections was reset. One can still be: a client that writes on
      // its idle keep-alive socket just as the grace closes it (the clean-clone CI met one 'write ECONNRESET'), the race
      // every keep-alive server has and a client retries with its Idempotency-Key. A connection opened during the stop
      // may be reset rather than refused (node:cluster's primary accepts it, and closes it unanswered when the last API
      // process stops listening; a clean-clone CI met two, and a run here under stress-ng --cpu 4 three, all three on
      // connections opened during the stop): no answer was sent on it, and the client retries alike.
      expect.soft(outcome.reset.length, `at most one keep-alive connection reset (${outcome.reset.join('; ')})`).toBeLessThanOrEqual(1);
      expect.soft(outcome.closing, 'answers during the drain say Connection: close').toBeGreaterThan(0);

      const lines = logLines(slots);
      const order = lines.flatMap((l) => (l.msg === 'slots process stopped' ? [`${l.role} stopped`] : l.msg === 'stopping' && l.process === 'duties 0' ? ['duties stopping'] : []));
      expect.soft(order, 'the group SIGTERM: API processes, then duties').toEqual(['api stopped', 'api stopped', 'duties stopping', 'duties stopped']);
      expect(processesOf(primary)).toEqual([]);
    } finally {
      for (const agent of agents) agent.destroy();
      await services.stop();
    }
  });
});
