/**
 * Webhooks survive the slots process being killed mid-delivery: the deliveries queued in
 * Redis and the slot changes not yet queued (their offsets not committed) are sent by the
 * next process, in order per booking.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { eventually, eventuallyProgressing, test } from '@tower/shared/testing';
import { readDemoCredentials } from '../infra/provision/credentials.ts';
import { credentialEnv, serviceIdentities } from '../infra/local/infra-credentials.ts';
import { baseEnv, exited, freePort, startService, startServices, stopService, waitReady } from './support/service-processes.ts';

interface Delivery {
  id: string;
  booking: { id: string; state: string };
}

describe('webhooks and a killed slots process', () => {
  test('SIGKILL while a delivery is in flight loses nothing: the next process sends every change, in order per booking', { timeout: 420_000 }, async ({ infra, logger }) => {
    // The receiver holds every request unanswered until it is told to answer.
    const received: { delivery: Delivery; answered: boolean }[] = [];
    let answering = false;
    const held: http.ServerResponse[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ delivery: JSON.parse(body) as Delivery, answered: answering });
        if (answering) response.end('ok');
        else held.push(response);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'webhooks-kill-'));
    const webhookEnv = { WEBHOOKS_ALLOW_LOOPBACK_HTTP: 'true', WEBHOOKS_TIMEOUT_MS: '3000', WEBHOOKS_RETRY_INITIAL_MS: '100', WEBHOOKS_RETRY_MAX_MS: '1000' };
    const services = await startServices(infra, directory, logger, ['slots'], webhookEnv);
    const firm = readDemoCredentials(directory).access.find((a) => a.role === 'firm');
    const headers = { authorization: `Bearer ${firm?.token}`, 'content-type': 'application/json' };
    let slotsUrl = services.url('slots');
    let endpointId: string | undefined;
    let second: ReturnType<typeof startService> | undefined;
    try {
      const registered = await fetch(`${slotsUrl}/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: hookUrl, events: ['booking.state-changed'] }) });
      expect(registered.status, await registered.clone().text()).toBe(201);
      endpointId = ((await registered.json()) as { id: string }).id;

      // Bookings of this run's own plates (the test servers' Redis is shared and kept between runs).
      const windowStart = Math.ceil((Date.now() + 3 * 3_600_000) / 1_800_000) * 1_800_000 + Math.floor(Math.random() * 400) * 1_800_000;
      const digits = String(Date.now() % 100_000).padStart(5, '0');
      const book = async (plate: string) => {
        // The firm books only trucks of its fleet: registered first (again, from an earlier run: 200).
        const truck = await fetch(`${slotsUrl}/v1/fleet/trucks`, { method: 'POST', headers, body: JSON.stringify({ plate, country: 'VN' }) });
        expect([200, 201], await truck.clone().text()).toContain(truck.status);
        const response = await fetch(`${slotsUrl}/v1/bookings`, {
          method: 'POST',
          headers: { ...headers, 'idempotency-key': `webhooks-kill-${plate}-${Date.now()}` },
          body: JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate, cargoClass: 'textiles' }),
        });
        expect(response.status, await response.clone().text()).toBe(201);
        const { id } = (await response.json()) as { id: string };
        const confirmed = await fetch(`${slotsUrl}/v1/bookings/${id}/confirm`, { method: 'POST', headers: { authorization: headers.authorization } });
        expect(confirmed.status).toBe(200);
        return id;
      };
      // The webhook consumer of a new group starts at the end of the topic once it has joined: book until one change reaches the receiver (bounded).
      const bookings: string[] = [];
      await eventually(
        async () => {
          if (bookings.length < 10) bookings.push(await book(`14C-${digits.slice(0, 2)}${bookings.length}.${digits.slice(2, 4)}`));
          return received.some((r) => bookings.includes(r.delivery.booking.id)) ? true : undefined;
        },
        { timeoutMs: 120_000, what: 'a first delivery in flight' },
      );
      const mine = (id: string) => received.filter((r) => r.delivery.booking.id === id);
      const first = bookings.find((id) => mine(id).length > 0) as string;
      expect(mine(first).map((r) => r.delivery.booking.state)).toEqual(['held']);

      // Killed while that delivery is unanswered (its confirmation queued behind it).
      const slots = services.running['slots'];
      if (!slots) throw new Error('slots is not running');
      slots.child.kill('SIGKILL');
      await exited(slots);
      for (const response of held.splice(0)) response.destroy();
      answering = true;

      second = startService('slots', { ...baseEnv(infra, directory), ...credentialEnv(infra.credentials, serviceIdentities['slots'] ?? {}), ...webhookEnv }, await freePort());
      await waitReady('slots', second);
      slotsUrl = `http://127.0.0.1:${second.port}`;
      // Every booking's changes delivered (the in-flight one once its lease of timeout + 30 s ends), in order.
      // Waited on progress (answered deliveries), not a fixed deadline: on a busy machine the retries' backoff stretches it.
      // No progress for 120 s (more than the lease and a backoff step) fails, as a change never sent would.
      await eventuallyProgressing({
        what: 'every change delivered after the restart',
        progress: async () => received.filter((r) => r.answered).length,
        until: () => (bookings.every((id) => mine(id).filter((r) => r.answered).length >= 2) ? true : undefined),
        stallMs: 120_000,
        capMs: 240_000,
      });
      for (const id of bookings) expect(mine(id).filter((r) => r.answered).map((r) => r.delivery.booking.state), id).toEqual(['held', 'confirmed']);
      const log = (await (await fetch(`${slotsUrl}/v1/webhooks/${endpointId}/deliveries`, { headers })).json()) as { attempts: { outcome: string }[] };
      expect(log.attempts.filter((a) => a.outcome === 'delivered').length).toBeGreaterThanOrEqual(bookings.length * 2);
    } finally {
      if (endpointId) await fetch(`${slotsUrl}/v1/webhooks/${endpointId}`, { method: 'DELETE', headers }).catch(() => undefined);
      if (second) await stopService(second);
      await services.stop();
      for (const response of held) response.destroy();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
