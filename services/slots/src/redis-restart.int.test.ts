import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect } from 'vitest';
import { type SlotBooking } from '@tower/shared';
import { test, testRedis } from '@tower/shared/testing';
import { standaloneRedisSpec } from '../../../infra/local/servers.ts';
import { inspectServer, startServer, stopServer } from '../../../infra/local/supervisor.ts';
import { defaultLedgerRules } from './domain/ledger.ts';
import { bearer, registerFleet, startSlots, testKeys } from './test-support.ts';

const windowMs = 30 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slots across a Redis crash', () => {
  test('Redis killed mid-load: clear 503s while it is down, no overbooking, no confirmed booking lost', { timeout: 120_000 }, async ({ kafka, clickhouse, logger, createTopic, infra }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slots-redis-'));
    const spec = standaloneRedisSpec(root, 17379, infra.credentials);
    await startServer(spec);
    const redis = testRedis({ ...infra, REDIS_URL: 'redis://127.0.0.1:17379' }, 'slots-restart-test', logger);
    await redis.connect();
    const topics = { slots: await createTopic(), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis, clickhouse: clickhouse.client, logger, topics }, { rules: { ...defaultLedgerRules, maxPerFirmPerWindow: 1000 } });
    try {
      const http = slots.http;
      const first = Math.ceil((Date.now() + 6 * 3_600_000) / windowMs) * windowMs;
      const windows = [0, 1, 2, 3].map((i) => ({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export' as const, windowStart: first + i * windowMs }));
      const capacity = 40;
      for (const window of windows) {
        expect((await http.inject({ method: 'PUT', url: '/v1/windows', headers: bearer(testKeys.operator), payload: { ...window, capacity } })).statusCode).toBe(200);
      }

      const unavailable: { status: number; type: string; dependency: string }[] = [];
      const confirmed = new Set<string>();
      let full = 0;
      let done = 0;
      /** Sends until the answer is not a 503, as a client would (same Idempotency-Key). */
      const persist = async (send: () => Promise<LightMyRequestResponse>) => {
        for (let attempt = 0; attempt < 100; attempt += 1) {
          const response = await send();
          if (response.statusCode !== 503) return response;
          const problem = response.json();
          unavailable.push({ status: response.statusCode, type: problem.type, dependency: problem.dependency });
          await sleep(50);
        }
        throw new Error('still 503 after 100 attempts');
      };
      const keyOf = (n: number) => (n % 2 ? testKeys.haiha : testKeys.donghung);
      const plateOf = (n: number) => `14C-${String(n).padStart(5, '0').slice(0, 3)}.${String(n).padStart(5, '0').slice(3)}`;
      const sent = Array.from({ length: 20 }, (_, w) => Array.from({ length: 12 }, (_, i) => w * 100 + i)).flat();
      for (const key of [testKeys.haiha, testKeys.donghung]) await registerFleet(http, key, sent.filter((n) => keyOf(n) === key).map(plateOf));
      const worker = async (w: number) => {
        for (let i = 0; i < 12; i += 1) {
          const n = w * 100 + i;
          const window = windows[n % windows.length]!;
          const key = `restart-${n}-key`;
          const held = await persist(() =>
            http.inject({ method: 'POST', url: '/v1/bookings', headers: { ...bearer(keyOf(n)), 'idempotency-key': key }, payload: { ...window, plate: plateOf(n), cargoClass: 'textiles' } }),
          );
          done += 1;
          if (held.statusCode === 409) {
            expect(held.json().rule).toBe('window-full');
            full += 1;
            continue;
          }
          expect([200, 201]).toContain(held.statusCode);
          const id = held.json<SlotBooking>().id;
          const answer = await persist(() => http.inject({ method: 'POST', url: `/v1/bookings/${id}/confirm`, headers: bearer(keyOf(n)) }));
          // A confirmation whose answer was lost in the crash is "not held" on retry: it is confirmed.
          if (answer.statusCode === 200 || (answer.statusCode === 409 && answer.json().booking.state === 'confirmed')) confirmed.add(id);
          else throw new Error(`confirm ${id}: ${answer.statusCode} ${answer.body}`);
        }
      };
      const load = Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
      // Mid-load: kill -9, a few seconds down, then start it again on the same data.
      while (done < 60) await sleep(5);
      const state = inspectServer(spec);
      if (state.state !== 'running') throw new Error('redis is not running');
      process.kill(state.pid, 'SIGKILL');
      await sleep(2000);
      await startServer(spec);
      await load;

      expect(unavailable.length).toBeGreaterThan(0);
      expect(unavailable.every((p) => p.status === 503 && p.type === 'https://mongcai-tower.dev/problems/dependency-unavailable' && p.dependency === 'redis')).toBe(true);
      // 240 requests for 160 places: every place given once, the rest refused as full.
      expect(confirmed.size).toBe(160);
      expect(full).toBe(80);
      const after = Date.now();
      for (const window of windows) {
        const { windows: [places] } = (await http.inject({ method: 'GET', url: `/v1/slots?site=bac-luan-2&laneKind=smart&direction=export&from=${window.windowStart}&to=${window.windowStart + windowMs}`, headers: bearer(testKeys.display) })).json();
        expect(places).toMatchObject({ capacity, booked: capacity, held: 0, free: 0 });
      }
      const stored = await slots.store.windowBookings(windows, 10_000, after);
      expect(stored.filter((b) => b.state === 'confirmed').map((b) => b.id).sort()).toEqual([...confirmed].sort());
    } finally {
      await slots.close();
      redis.disconnect();
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
