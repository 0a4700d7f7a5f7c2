/**
 * Every service as a real process on the test servers, with a little traffic (the
 * simulator's, events posted through ingest, a booking, a wall subscribed to throughput
 * over a real WebSocket), scraped as Prometheus scrapes it: every metric docs/metrics.md
 * lists for a service (its own, and prom-client's process metrics) is in that service's
 * /metrics with its type, every consumer group reports its lag, and the freshness histogram
 * counts the ticks a real client received.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import WebSocket from 'ws';
import type { ThroughputTick } from '@tower/shared';
import { atLeast, eventually, eventuallyProgressing, sampleEvents, test } from '@tower/shared/testing';
import { readDemoCredentials } from '../infra/provision/credentials.ts';
import { registerFleet } from '../services/slots/src/test-support.ts';
import { startEveryService } from './support/service-processes.ts';

const root = path.resolve(import.meta.dirname, '..');

/** The services as `npm start` runs them: every workspace under services/ with a main. */
const services = fs.readdirSync(path.join(root, 'services')).filter((name) => fs.existsSync(path.join(root, 'services', name, 'src/main.ts')));

interface DocumentedMetric {
  name: string;
  type: string;
  services: string[];
}

/**
 * The services' tables of docs/metrics.md (each under `| Name | Type | Labels | Meaning | Services |`,
 * up to its first line that is not a row: their own metrics, and their processes'): each metric,
 * its type and the services that serve it (`all`, or names with a source in parentheses).
 */
function documentedMetrics(text: string, known: readonly string[]): DocumentedMetric[] {
  const lines = text.split('\n');
  const headers = lines.flatMap((line, i) => (/^\| Name \| Type \| Labels \| Meaning \| Services \|/.test(line) ? [i] : []));
  if (headers.length < 2) throw new Error('docs/metrics.md has not its two tables | Name | Type | Labels | Meaning | Services | (the services\' metrics, their processes\')');
  const rows: string[] = [];
  for (const header of headers) {
    for (const line of lines.slice(header + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(line);
    }
  }
  return rows.map((row) => {
    const cells = row.split('|').slice(1, -1).map((cell) => cell.trim());
    const name = cells[0]!.replaceAll('`', '');
    const named = cells.at(-1)!.replace(/\([^)]*\)/g, '').split(',').map((s) => s.trim()).filter(Boolean);
    const servedBy = named.includes('all') ? [...known] : named;
    for (const service of servedBy) if (!known.includes(service)) throw new Error(`docs/metrics.md: ${name} names the service '${service}', which is not one of ${known.join(', ')}`);
    return { name, type: cells[1]!, services: servedBy };
  });
}

/** `# TYPE name type` of a Prometheus text exposition. */
const typesOf = (text: string) => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name!, type!]));

/** The value of the one sample `name` (with the registry's `service` label only). */
const valueOf = (text: string, name: string) => Number(new RegExp(`^${name}\\{service="\\w+"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('every service’s /metrics against docs/metrics.md', () => {
  test('each service serves every metric the table lists for it, with its type; every consumer group reports its lag; the freshness histogram counts ticks a real wall received', { timeout: 600_000 }, async ({ infra, logger }) => {
    const table = documentedMetrics(fs.readFileSync(path.join(root, 'docs/metrics.md'), 'utf8'), services);
    expect(table.length).toBeGreaterThan(30);
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-scrape-'));
    const stack = await startEveryService(infra, directory, logger);
    const { url } = stack;
    let wall: WebSocket | undefined;
    try {
      const scrape = async (name: string) => {
        const response = await fetch(url(name, '/metrics'));
        expect(response.status, `${name} /metrics`).toBe(200);
        return response.text();
      };

      // A wall: a display token's socket subscribed to throughput, counting the ticks of new data it receives.
      const demo = readDemoCredentials(directory);
      const display = demo.access.find((a) => a.role === 'display')!;
      wall = new WebSocket(`ws://127.0.0.1:${stack.running['live']?.port}/v1/live`, ['tower.live.v1', `token.${display.token}`]);
      let ticksReceived = 0;
      wall.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string; data?: ThroughputTick };
        if (message.type === 'delta' && message.data && !message.data.final && !message.data.correction) ticksReceived += 1;
      });
      await new Promise<void>((resolve, reject) => wall!.once('open', () => resolve()).once('error', reject));
      wall.send(JSON.stringify({ type: 'subscribe', id: 'throughput', channel: 'throughput' }));

      // Events through ingest, and a booking held and confirmed.
      const events = sampleEvents().filter((e) => e.site === 'bac-luan-2');
      const device = demo.devices.find((d) => d.site === 'bac-luan-2')!;
      const posted = await fetch(url('ingest', '/v1/events'), { method: 'POST', headers: { authorization: `Bearer ${device.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
      expect(posted.status, await posted.clone().text()).toBe(200);
      const firm = demo.access.find((a) => a.role === 'firm')!;
      // The slot store is the test servers' own Redis, kept between runs: a window and a truck of this run's own.
      const pick = (n: number) => Math.floor(Math.random() * n);
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / 1_800_000) * 1_800_000 + pick(400) * 1_800_000;
      const plate = `14C-${100 + pick(900)}.${10 + pick(90)}`;
      await registerFleet(url('slots', ''), firm.token, [plate]);
      const held = await fetch(url('slots', '/v1/bookings'), {
        method: 'POST',
        headers: { authorization: `Bearer ${firm.token}`, 'idempotency-key': `metrics-scrape-${Date.now()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'textiles' }),
      });
      expect(held.status).toBe(201);
      const { id } = (await held.json()) as { id: string };
      expect((await fetch(url('slots', `/v1/bookings/${id}/confirm`), { method: 'POST', headers: { authorization: `Bearer ${firm.token}` } })).status).toBe(200);

      // The freshness histogram counts the ticks sent to the wall (its only client): at least one, and no more than it
      // received once every tick sent before the scrape has arrived.
      const counted = await eventually(
        async () => {
          const count = valueOf(await scrape('live'), 'tower_live_tick_freshness_seconds_count');
          return count > 0 ? count : undefined;
        },
        { timeoutMs: 180_000, what: 'ticks delivered to the wall, counted by the freshness histogram' },
      );
      await eventuallyProgressing({ what: `the wall to receive the ${counted} ticks counted`, progress: () => ticksReceived, until: atLeast(counted), stallMs: 60_000 });
      expect(counted).toBeGreaterThan(0);
      expect(counted).toBeLessThanOrEqual(ticksReceived);

      // Every consumer group reports its lag: the aggregator's and its dead-letter archive's, slots' check-in and history, each broadcast feed of live.
      const groups = { aggregator: ['tower-aggregator', 'tower-aggregator-dead-letters'], slots: ['tower-slots-check-in', 'tower-slots-history', 'tower-slots-webhooks'], live: ['tower-live-ticks', 'tower-live-alerts', 'tower-live-journeys', 'tower-live-slots'] };
      for (const [service, expected] of Object.entries(groups)) {
        const reported = await eventually(
          async () => {
            const found = new Set([...(await scrape(service)).matchAll(/^tower_consumer_lag_messages\{group="([\w-]+)",/gm)].map(([, group]) => group));
            return expected.every((group) => found.has(group)) ? [...found].sort() : undefined;
          },
          { timeoutMs: 120_000, what: `${service}'s consumer groups ${expected.join(', ')} in tower_consumer_lag_messages` },
        );
        expect(reported).toEqual([...expected].sort());
      }

      // Every documented metric, in each service the table names, with its type.
      for (const service of services) {
        const served = typesOf(await scrape(service));
        const missing = table.filter((m) => m.services.includes(service) && served.get(m.name) !== m.type).map((m) => `${m.name} (${m.type}; served as ${served.get(m.name) ?? 'nothing'})`);
        expect(missing, `${service} /metrics against docs/metrics.md`).toEqual([]);
      }
      expect(valueOf(await scrape('ingest'), 'tower_ingest_kafka_ack_seconds_count')).toBeGreaterThan(0);
      for (const [name, service] of Object.entries(stack.running)) expect(service.child.exitCode, `${name}: ${service.stderr()}`).toBeNull();
    } finally {
      wall?.close();
      await stack.stop();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
