/** What the webhook integration tests share: a firm's receiver, the slots topics, the signature check. */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { SlotBooking, SlotBookingView } from '@tower/shared';
import { bearer, type SlotsTopics } from '../test-support.ts';

/** A delivery's body, whichever event it is. */
export interface ReceivedEvent {
  id: string;
  type: string;
  occurredAt: string;
  /** booking.state-changed */
  booking: SlotBooking;
  /** window.closed, window.capacity-cut */
  window?: { site: string; laneKind: string; direction: string; windowStart: number; windowStartIso: string; capacity: number; closed: boolean };
  previousCapacity?: number;
  bookings?: SlotBookingView[];
  /** conditions.threshold-crossed */
  from?: string;
  to?: string;
  conditions?: { site: string; laneKind: string; direction: string; level: string };
  /** endpoint.paused */
  endpoint?: { id: string; url: string; state: string; pausedReason: string; pausedAtIso: string; resume: string };
}

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  event: ReceivedEvent;
  answered: number;
}

/** A firm's receiver on 127.0.0.1 (port 0): records every request and answers what `answer` says (or never, while it returns 'hang'). */
export async function startReceiver() {
  const received: Received[] = [];
  let answer: (r: Omit<Received, 'answered'>) => number | 'hang' = () => 200;
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const entry = { path: request.url ?? '', headers: request.headers, body, event: JSON.parse(body) as ReceivedEvent };
      const status = answer(entry);
      received.push({ ...entry, answered: status === 'hang' ? 0 : status });
      if (status === 'hang') hanging.push(response);
      else response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'x'.repeat(100_000));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    answerWith: (f: typeof answer) => void (answer = f),
    close: async () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function slotsTopics(createTopic: (o?: { partitions?: number }) => Promise<string>): Promise<SlotsTopics> {
  return { slots: await createTopic({ partitions: 3 }), trucks: await createTopic({ partitions: 1 }), deadLetter: await createTopic({ partitions: 1 }) };
}

/** Whether a received request carries the signature the docs describe, with a fresh timestamp. */
export function signedWith(secret: string, r: Received): boolean {
  const timestamp = String(r.headers['tower-webhook-timestamp']);
  return Math.abs(Number(timestamp) - Date.now() / 1000) < 300 && r.headers['tower-webhook-signature'] === `v1=${createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')}`;
}

/** Puts a truck in the firm's fleet (POST /v1/fleet/trucks) before the firm books it; a 404 where the fleet is not built yet (holds need none there). */
export async function ownTruck(http: FastifyInstance, key: string, plate: string): Promise<void> {
  const registered = await http.inject({ method: 'POST', url: '/v1/fleet/trucks', headers: bearer(key), payload: { plate, country: 'VN' } });
  if (![200, 201, 404].includes(registered.statusCode)) throw new Error(`registering ${plate}: ${registered.statusCode} ${registered.body}`);
}
