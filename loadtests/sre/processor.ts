/**
 * The Artillery processor (bundled by Artillery with esbuild, run in its workers): a
 * device batch stamped afresh, the live-protocol client (subscribe, snapshot time,
 * freshness of every tick = now − newestIngestedAt), and a slot booking's variables.
 * It imports nothing of the services: everything it needs is in the run context file.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { countAnswer, nextBatch, runContext, type Emitter, type Vars } from './device-batches.ts';
import { sleepArtilleryArrivals } from './arrival-timer.ts';
import { customMetric, type RunContext } from './run-context.ts';

// Loaded in each Artillery worker before its phases start: arrivals are timed by a sleeping timer, not a busy loop.
sleepArtilleryArrivals();

interface Request {
  body?: string;
  headers?: Record<string, string>;
}
type Next = (error?: Error) => void;

/**
 * beforeRequest of the ingest POST (the smoke scenario's; the other scenarios' devices
 * use the device engine). The batch goes as a JSON string, not as `json`: Artillery
 * deep-clones a `json` body and walks every field of it for `{{ }}` placeholders (18 %
 * of its worker's time at batches of 20); a string is tested once.
 */
export function deviceBatch(request: Request, context: Vars, _events: Emitter, next: Next): void {
  const { key, events } = nextBatch(runContext(context));
  request.body = JSON.stringify(events);
  request.headers = { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${key}` };
  context.vars['batchSize'] = events.length;
  next();
}

/** afterResponse of the ingest POST: what was sent and what the API acknowledged. */
export function deviceAnswer(_request: Request, response: { statusCode: number; body: unknown }, context: Vars, events: Emitter, next: Next): void {
  countAnswer(response.statusCode, response.body, Number(context.vars['batchSize'] ?? 0), events);
  next();
}

/** First step of every flow: the target's URLs and tokens, the booking's window, a plate and an idempotency key of this virtual user. */
export function runVars(context: Vars, _events: Emitter, next: Next): void {
  const run = runContext(context);
  const fleet = run.fleets[Math.floor(Math.random() * run.fleets.length)]!;
  Object.assign(context.vars, run.slot, {
    ingest: run.ingest,
    live: run.live,
    slots: run.slots,
    firmToken: fleet.token,
    displayToken: run.displayToken,
    plate: fleet.plates[Math.floor(Math.random() * fleet.plates.length)],
    idempotencyKey: `load-${randomUUID()}`,
  });
  next();
}

/** afterResponse of a confirm: counts a confirmed booking. */
export function bookingConfirmed(_request: Request, response: { statusCode: number }, _context: Vars, events: Emitter, next: Next): void {
  if (response.statusCode === 200) events.emit('counter', customMetric.bookingsConfirmed, 1);
  next();
}

interface Frame {
  type: string;
  id?: string;
  channel?: string;
  data?: { newestIngestedAt?: number; final?: boolean; correction?: boolean };
  code?: string;
}

/** A live feed with the display token: frames to a handler, and a promise of its close. */
function openFeed(run: RunContext, onFrame: (frame: Frame) => void): Promise<WebSocket> {
  const url = `${run.live.replace(/^http/, 'ws')}/v1/live`;
  const socket = new WebSocket(url, ['tower.live.v1', `token.${run.displayToken}`]);
  socket.on('message', (data) => onFrame(JSON.parse(String(data)) as Frame));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`live feed refused: HTTP ${response.statusCode}`)));
  });
}

/** Subscribes to the zone's throughput; resolves with the snapshot's time (ms). */
function subscribe(socket: WebSocket, waiters: Map<string, (frame: Frame) => void>, id: string, channel: string): Promise<number> {
  const sentAt = performance.now();
  socket.send(JSON.stringify({ type: 'subscribe', id, channel }));
  return new Promise((resolve, reject) => {
    waiters.set(id, (frame) => (frame.type === 'snapshot' ? resolve(performance.now() - sentAt) : reject(new Error(`subscribe ${channel}: ${frame.type} ${frame.code ?? ''}`))));
  });
}

/**
 * Smoke's live path: subscribe, then one device batch, and wait for a throughput tick
 * that includes it (its newestIngestedAt at or after the post).
 */
export async function liveTick(context: Vars, events: Emitter): Promise<void> {
  const run = runContext(context);
  const waiters = new Map<string, (frame: Frame) => void>();
  let tick: (frame: Frame) => void = () => {};
  const socket = await openFeed(run, (frame) => (frame.type === 'delta' ? tick(frame) : waiters.get(frame.id ?? '')?.(frame)));
  try {
    events.emit('histogram', customMetric.snapshotMs, await subscribe(socket, waiters, 'zone', 'throughput'));
    const postedAt = Date.now();
    const seen = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no throughput tick within ${run.tickTimeoutSeconds} s of a batch`)), run.tickTimeoutSeconds * 1000);
      tick = (frame) => {
        const newest = frame.data?.newestIngestedAt;
        if (typeof newest === 'number' && newest >= postedAt - 1000) {
          clearTimeout(timer);
          resolve(Date.now() - newest);
        }
      };
    });
    const { key, events: batch } = nextBatch(run);
    const response = await fetch(`${run.ingest}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    countAnswer(response.status, await response.text(), batch.length, events);
    events.emit('histogram', customMetric.freshnessMs, await seen);
    events.emit('counter', customMetric.ticks, 1);
  } finally {
    socket.close();
  }
}

/**
 * A wall (or operator console): the zone's throughput and KPIs, as the wall subscribes
 * them; the snapshots' times, then the freshness of every throughput tick of an open
 * window for `wallHoldSeconds`.
 */
export async function wallClient(context: Vars, events: Emitter): Promise<void> {
  const run = runContext(context);
  const waiters = new Map<string, (frame: Frame) => void>();
  const socket = await openFeed(run, (frame) => {
    // Freshness is that of new data: a window made final (the watermark passed it, minutes later) or corrected by a late event is not.
    if (frame.type === 'delta' && frame.id === 'zone' && typeof frame.data?.newestIngestedAt === 'number' && !frame.data.final && !frame.data.correction) {
      events.emit('histogram', customMetric.freshnessMs, Date.now() - frame.data.newestIngestedAt);
      events.emit('counter', customMetric.ticks, 1);
    } else if (frame.type !== 'delta') waiters.get(frame.id ?? '')?.(frame);
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  try {
    for (const [id, channel] of [['zone', 'throughput'], ['tiles', 'kpis']] as const) events.emit('histogram', customMetric.snapshotMs, await subscribe(socket, waiters, id, channel));
    await Promise.race([new Promise((resolve) => setTimeout(resolve, run.wallHoldSeconds * 1000)), closed.then(() => Promise.reject(new Error('the gateway closed the feed')))]);
  } finally {
    socket.close();
  }
}
