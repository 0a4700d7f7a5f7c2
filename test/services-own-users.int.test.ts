/**
 * Every service as a real process logged in as its own users (as `npm start` runs
 * them): ready, and doing its work within its ACLs and database rights; a refused
 * login stops it at start naming the dependency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { createClickHouse, loadCatalog, loadConfig, selectRows, sql } from '@tower/shared';
import { eventually, sampleEvents, test, type TestInfra } from '@tower/shared/testing';
import { credentialEnv, serviceIdentities } from '../infra/local/infra-credentials.ts';
import { ensureDemoCredentials, readDemoCredentials } from '../infra/provision/credentials.ts';
import { provision, provisionEnv } from '../infra/provision/provision.ts';

const root = path.resolve(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

function startService(name: string, env: Record<string, string>, port: number): Running {
  let stderr = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'services', name, 'src/main.ts')], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, port, stderr: () => stderr };
}

/** Its exit code, once its stderr is read to the end too ('close', not 'exit'). */
const exited = (running: Running) =>
  new Promise<number | null>((resolve) => (running.child.exitCode !== null && running.child.stderr?.closed ? resolve(running.child.exitCode) : running.child.once('close', (code) => resolve(code))));

/** The servers' addresses and the demo registries; no login (each service adds its own). */
function baseEnv(infra: TestInfra, directory: string): Record<string, string> {
  return {
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    KAFKA_REPLICATION_FACTOR: infra.KAFKA_REPLICATION_FACTOR,
    KAFKA_MIN_INSYNC_REPLICAS: infra.KAFKA_MIN_INSYNC_REPLICAS,
    CLICKHOUSE_URL: infra.CLICKHOUSE_URL,
    CLICKHOUSE_DATABASE: 'tower',
    REDIS_URL: infra.REDIS_URL,
    DEVICES_FILE: path.join(directory, 'devices.json'),
    ACCESS_FILE: path.join(directory, 'access.json'),
  };
}

describe('services logged in as their own users', () => {
  test('ingest, aggregator, live and slots get ready and do their work with only their own rights', { timeout: 300_000 }, async ({ infra, logger }) => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'own-users-'));
    const admin = { KAFKA_SASL_MECHANISM: infra.KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME: infra.KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: infra.KAFKA_SASL_PASSWORD, CLICKHOUSE_USER: infra.CLICKHOUSE_USER, CLICKHOUSE_PASSWORD: infra.CLICKHOUSE_PASSWORD };
    await provision(loadConfig(provisionEnv, { ...baseEnv(infra, directory), ...admin, CREDENTIALS_DIR: directory }), logger);
    const demo = readDemoCredentials(directory);
    const running: Record<string, Running> = {};
    try {
      for (const name of ['ingest', 'aggregator', 'live', 'slots']) {
        running[name] = startService(name, { ...baseEnv(infra, directory), ...credentialEnv(infra.credentials, serviceIdentities[name] ?? {}) }, await freePort());
      }
      for (const [name, service] of Object.entries(running)) {
        await eventually(
          async () => {
            if (service.child.exitCode !== null) throw new Error(`${name} exited: ${service.stderr()}`);
            const response = await fetch(`http://127.0.0.1:${service.port}/readyz`);
            return response.ok ? true : undefined;
          },
          { timeoutMs: 120_000, what: `${name} to be ready` },
        );
      }
      const url = (name: string, route: string) => `http://127.0.0.1:${running[name]?.port}${route}`;

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
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / 1_800_000) * 1_800_000;
      const booked = await fetch(url('slots', '/v1/bookings'), {
        method: 'POST',
        headers: { authorization: `Bearer ${firm?.token}`, 'idempotency-key': `own-users-${Date.now()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate: '14C-555.01', cargoClass: 'textiles' }),
      });
      expect(booked.status).toBe(201);
      for (const [name, service] of Object.entries(running)) expect(service.child.exitCode, `${name}: ${service.stderr()}`).toBeNull();
    } finally {
      for (const service of Object.values(running)) service.child.kill('SIGTERM');
      await Promise.all(Object.values(running).map(exited));
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
