/**
 * Every service as a real process logged in as its own users (as `npm start` runs
 * them): ready, and doing its work within its ACLs and database rights; a refused
 * login stops it at start naming the dependency.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createClickHouse, loadCatalog, selectRows, sql } from '@tower/shared';
import { eventually, sampleEvents, test } from '@tower/shared/testing';
import { credentialEnv, serviceIdentities } from '../infra/local/infra-credentials.ts';
import { ensureDemoCredentials, readDemoCredentials } from '../infra/provision/credentials.ts';
import { registerFleet } from '../services/slots/src/test-support.ts';
import { baseEnv, exited, freePort, startService, startServices } from './support/service-processes.ts';

describe('services logged in as their own users', () => {
  test('ingest, aggregator, live and slots get ready and do their work with only their own rights', { timeout: 300_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'own-users-'));
    const services = await startServices(infra, directory, logger, ['ingest', 'aggregator', 'live', 'slots']);
    const demo = readDemoCredentials(directory);
    try {
      const { url, running } = services;

      // ingest (tower-ingest) writes an event; the aggregator (tower-aggregator, tower_writer) stores it.
      const event = sampleEvents().find((e) => e.type === 'truck.plate-read');
      const device = demo.devices.find((d) => d.site === event?.site);
      const posted = await fetch(url('ingest', '/v1/events'), { method: 'POST', headers: { authorization: `Bearer ${device?.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify([event]) });
      expect(posted.status).toBe(200);
      const clickhouse = createClickHouse({ url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: 'tower', logger });
      await eventually(async () => ((await selectRows(clickhouse, sql`SELECT event_id FROM truck_events WHERE event_id = ${event?.eventId ?? ''}`)).length === 1 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'the aggregator to store the event',
      });
      await clickhouse.close();

      // live (tower_reader) answers from ClickHouse; slots (tower-slots, Redis slots:*) holds a booking and publishes it.
      const display = demo.access.find((a) => a.role === 'display');
      expect((await fetch(url('live', '/v1/kpis/now?site=bac-luan-2'), { headers: { authorization: `Bearer ${display?.token}` } })).status).toBe(200);
      const firm = demo.access.find((a) => a.role === 'firm');
      // The gate conditions: a live instance leading alert evaluation writes them to Redis (tower-live may write that one key), the slots service reads them (tower-slots may read it).
      await eventually(async () => ((await fetch(url('slots', '/v1/conditions'), { headers: { authorization: `Bearer ${firm?.token}` } })).status === 200 ? true : undefined), {
        timeoutMs: 90_000,
        what: 'the slots service to serve the gate conditions live wrote',
      });
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / 1_800_000) * 1_800_000;
      // A plate of this run's own: a previous run's hold on the shared Redis lives for minutes (a fixed plate got 409 on a re-run).
      const digits = String(Date.now() % 100_000).padStart(5, '0');
      const plate = `14C-${digits.slice(0, 3)}.${digits.slice(3)}`;
      await registerFleet(url('slots', ''), firm!.token, [plate]);
      const booked = await fetch(url('slots', '/v1/bookings'), {
        method: 'POST',
        headers: { authorization: `Bearer ${firm?.token}`, 'idempotency-key': `own-users-${Date.now()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'textiles' }),
      });
      expect(booked.status).toBe(201);
      for (const [name, service] of Object.entries(running)) expect(service.child.exitCode, `${name}: ${service.stderr()}`).toBeNull();
    } finally {
      await services.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });

  test('a wrong password stops a service at start, naming the dependency and the user', { timeout: 120_000 }, async ({ infra }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'own-users-wrong-'));
    ensureDemoCredentials(loadCatalog(), directory);
    try {
      const cases: { name: string; wrong: Record<string, string>; says: RegExp }[] = [
        { name: 'ingest', wrong: { KAFKA_SASL_PASSWORD: 'wrong' }, says: /ingest: cannot connect to Kafka as tower-ingest: .*SASL/ },
        { name: 'aggregator', wrong: { CLICKHOUSE_PASSWORD: 'wrong' }, says: /aggregator: cannot connect to ClickHouse as tower_writer: .*Wrong password|Authentication/ },
        { name: 'slots', wrong: { REDIS_PASSWORD: 'wrong' }, says: /slots: cannot connect to Redis as tower-slots: WRONGPASS/ },
      ];
      for (const { name, wrong, says } of cases) {
        const service = startService(name, { ...baseEnv(infra, directory), ...credentialEnv(infra.credentials, serviceIdentities[name] ?? {}), ...wrong }, await freePort());
        expect(await exited(service), name).toBe(1);
        expect(service.stderr()).toMatch(says);
      }
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
