/**
 * The slots service as several processes on one port (SLOTS_API_PROCESSES=2): the real
 * service on the test servers, each request on a new connection (the port hands
 * connections to the API processes in turn). Bookings are served by both API processes,
 * a key's budget holds across them, one scrape of /metrics shows every process (both API
 * processes and the duties process's consumers), /readyz includes the duties process, an
 * API process killed is started again, and SIGTERM answers every request in flight
 * before the API processes, then the duties process, stop.
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
}

/** One request on a connection of its own. */
function call(port: number, method: string, route: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: route, method, agent: false, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Requests counted per API process in one scrape. */
function servedByProcess(metrics: string): Map<string, number> {
  const served = new Map<string, number>();
  for (const match of metrics.matchAll(/^tower_slots_api_process_requests_total\{[^}]*process="(\d+)"[^}]*\} (\d+)/gm)) served.set(match[1]!, Number(match[2]));
  return served;
}

const logLines = (running: Running) => running.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string; role?: string; process?: string });

describe('the slots API in two processes', () => {
  test('both serve bookings, a key’s budget holds across them, one scrape shows all, a killed one restarts, SIGTERM loses nothing', { timeout: 300_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'slots-processes-'));
    // Windows anywhere in 400 days, the firm's cap lifted: earlier runs' bookings on the shared Redis do not get in the way.
    const env = { SLOTS_API_PROCESSES: '2', RATE_PER_SECOND: '1', RATE_BURST: '100', LOG_LEVEL: 'info', BOOKING_HORIZON_DAYS: '400', FIRM_CAP_PER_WINDOW: '100000', CONSUMER_GROUP_PREFIX: `tower-slots-processes-${Date.now().toString(36)}` };
    const services = await startServices(infra, directory, logger, ['slots'], env);
    const slots = services.running['slots']!;
    const primary = slots.child.pid!;
    try {
      const firms = readDemoCredentials(directory).access.filter((a) => a.role === 'firm');
      const [flooder, booker] = [firms[0]!, firms.find((f) => f.firm !== firms[0]!.firm)!];
      expect(booker, 'two demo firms').toBeDefined();
      const auth = (token: string) => ({ authorization: `Bearer ${token}` });

      const ready = await call(slots.port, 'GET', '/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect((JSON.parse(ready.text) as { checks: Record<string, string> }).checks['duties process']).toBe('ok');
      expect(processesOf(primary).map((p) => `${p.role} ${p.index}`).sort()).toEqual(['api 1', 'api 2', 'duties 0']);

      // One key's budget (burst 100, 1/s) holds across both processes: 200 requests at once, at most 100 and the refill answered.
      // The test servers' Redis is kept between runs: the key's bucket starts full.
      const redis = testRedis(infra, 'slots-processes', logger);
      await connectRedis(redis);
      await redis.del(budgetKeyOf(flooder.id));
      await redis.quit();
      const began = Date.now();
      const flood: Answer[] = [];
      for (let i = 0; i < 200; i += 20) flood.push(...(await Promise.all(Array.from({ length: 20 }, () => call(slots.port, 'GET', '/v1/fleet/trucks', auth(flooder.token))))));
      const allowed = flood.filter((a) => a.status !== 429).length;
      expect(allowed).toBeLessThanOrEqual(100 + Math.ceil((Date.now() - began) / 1000) + 1);
      // The whole burst, however the port spread the connections (the bucket is in Redis).
      expect(allowed).toBeGreaterThanOrEqual(100);

      // Bookings of this run's own plates (the test servers' Redis is shared and kept between runs).
      const digits = String(Date.now() % 1_000_000).padStart(6, '0');
      const plates = Array.from({ length: 10 }, (_, n) => `15C-${digits.slice(0, 3)}.${digits[3]}${n}`);
      for (const plate of plates) {
        const registered = await call(slots.port, 'POST', '/v1/fleet/trucks', auth(booker.token), JSON.stringify({ plate, country: 'VN' }));
        expect([200, 201], registered.text).toContain(registered.status);
      }
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / 1_800_000) * 1_800_000 + Math.floor(Math.random() * 4000) * 2 * 3_600_000;
      const book = (plate: string, at: number) =>
        call(slots.port, 'POST', '/v1/bookings', { ...auth(booker.token), 'idempotency-key': `processes-${plate}-${at}` }, JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: at, plate, cargoClass: 'textiles' }));
      const booked = await Promise.all(plates.map((plate) => book(plate, windowStart)));
      for (const answer of booked) expect(answer.status, answer.text).toBe(201);

      // Every scrape, whichever process answers it, shows both API processes and the duties process's consumers.
      for (let i = 0; i < 4; i++) {
        const scrape = await call(slots.port, 'GET', '/metrics');
        expect(scrape.status).toBe(200);
        const served = servedByProcess(scrape.text);
        expect([...served.keys()].sort(), scrape.text.slice(0, 300)).toEqual(['1', '2']);
        expect((served.get('1') ?? 0) + (served.get('2') ?? 0)).toBeGreaterThanOrEqual(200 + plates.length * 2);
      }
      await eventually(async () => (/^tower_consumer_events_total\{[^}]*topic="tower\.slots\.v1"[^}]*\} [1-9]/m.test((await call(slots.port, 'GET', '/metrics')).text) ? true : undefined), { timeoutMs: 120_000, what: 'the duties process’s history consumer in the scrape' });

      // An API process killed is started again; the port keeps answering meanwhile.
      const victim = processesOf(primary).find((p) => p.role === 'api' && p.index === '1')!;
      process.kill(victim.pid, 'SIGKILL');
      await eventually(
        async () => {
          const now = processesOf(primary).find((p) => p.role === 'api' && p.index === '1');
          return now && now.pid !== victim.pid && logLines(slots).some((l) => l.msg === 'slots process exited unasked: starting it again') ? true : undefined;
        },
        { timeoutMs: 60_000, what: 'API process 1 started again' },
      );
      await eventually(async () => ((await call(slots.port, 'GET', '/readyz')).status === 200 && servedByProcess((await call(slots.port, 'GET', '/metrics')).text).has('1') ? true : undefined), { timeoutMs: 60_000, what: 'the new API process 1 serving' });

      // SIGTERM with bookings in flight: every one answered, then the API processes stop, then the duties process, and the primary exits 0.
      const inFlight = [1, 2, 3].flatMap((w) => plates.map((plate) => book(plate, windowStart + w * 1_800_000)));
      // Once one is answered the others' connections are accepted and handed to a process (one not yet handed over when the last API process closes is reset: node:cluster's limit).
      await Promise.race(inFlight);
      const exit = exited(slots);
      slots.child.kill('SIGTERM');
      const answers = await Promise.allSettled(inFlight);
      // Held (201), or arrived on an open connection once its process had stopped intake: refused as a problem to retry (503 shutting-down).
      for (const answer of answers) if (answer.status === 'fulfilled' && answer.value.status !== 201) expect(answer.value.text).toMatch(/"status":503.*shutting down; retry|shutting-down.*"status":503/);
      expect(answers.filter((a) => a.status === 'fulfilled' && a.value.status === 201).length).toBeGreaterThan(0);
      expect(await exit).toBe(0);
      // The duties process begins its stop (its relay publishing what the API processes left in the outbox) once both API processes have exited.
      const lines = logLines(slots);
      const order = lines.flatMap((l) => (l.msg === 'slots process stopped' ? [`${l.role} stopped`] : l.msg === 'stopping' && l.process === 'duties 0' ? ['duties stopping'] : []));
      expect(order).toEqual(['api stopped', 'api stopped', 'duties stopping', 'duties stopped']);
      expect(processesOf(primary)).toEqual([]);

      // A connection the port took but no process read before the last one closed is reset (as one in a single process's backlog is):
      // nothing was held for it, and its retry with the same Idempotency-Key, at the next start, holds it; every booking is then held once.
      const cutOff = answers.flatMap((a, i) => (a.status === 'rejected' ? [i] : []));
      for (const a of answers) if (a.status === 'rejected') expect(String(a.reason)).toMatch(/ECONNRESET|ECONNREFUSED|socket hang up/);
      logger.info({ cutOff: cutOff.length, of: answers.length }, 'requests cut off by the stop, retried at the next start');
      const again = await startServices(infra, directory, logger, ['slots'], env);
      try {
        const port = again.running['slots']!.port;
        const windows = [1, 2, 3].flatMap((w) => plates.map((plate) => ({ plate, at: windowStart + w * 1_800_000 })));
        for (const [i, { plate, at }] of windows.entries()) {
          const first = answers[i]!;
          const retried = await call(port, 'POST', '/v1/bookings', { ...auth(booker.token), 'idempotency-key': `processes-${plate}-${at}` }, JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: at, plate, cargoClass: 'textiles' }));
          // Replayed (200) when the first attempt held it; held now (201), or replayed when only its answer was cut off, otherwise.
          if (first.status === 'fulfilled' && first.value.status === 201) expect(retried.status, `${i}: ${retried.text}`).toBe(200);
          else expect([200, 201], `${i}: ${retried.text}`).toContain(retried.status);
        }
      } finally {
        await again.stop();
      }
    } finally {
      await services.stop();
    }
  });
});
