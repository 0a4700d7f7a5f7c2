/**
 * The Artillery processor (bundled by Artillery with esbuild, run in its workers): a
 * device batch stamped afresh, the live-protocol client (subscribe, snapshot time,
 * freshness of every tick = now − newestIngestedAt), and a slot booking's variables.
 * It imports nothing of the services: everything it needs is in the run context file.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import WebSocket from 'ws';
import { customMetric, type PoolEvent, type RunContext } from './run-context.ts';

interface Vars {
  vars: Record<string, unknown>;
}
interface Emitter {
  emit(kind: 'counter' | 'histogram', name: string, value: number): void;
}
interface Request {
  json?: unknown;
  headers?: Record<string, string>;
}
type Next = (error?: Error) => void;

const loaded = new Map<string, RunContext>();
let cursor = 0;

function runContext(context: Vars): RunContext {
  const file = String(context.vars['runContext']);
  let run = loaded.get(file);
  if (!run) {
    run = JSON.parse(fs.readFileSync(file, 'utf8')) as RunContext;
    loaded.set(file, run);
  }
  return run;
}

/** The next batch of the pool, as the device sends it now: new ids, recent times, the run's source. */
function nextBatch(run: RunContext): { key: string; events: PoolEvent[] } {
  const batch = run.pool[cursor++ % run.pool.length]!;
  const newest = batch.events[batch.events.length - 1]!.observedAt;
  const now = Date.now();
  const events = batch.events.map((e) => ({ ...e, eventId: randomUUID(), observedAt: now - Math.min(60_000, newest - e.observedAt), source: `${run.sourcePrefix}${e.source}`.slice(0, 64) }));
  const keys = run.deviceKeys[batch.site] ?? [];
  return { key: keys[cursor % Math.max(1, keys.length)] ?? '', events };
}

function countAnswer(status: number, body: unknown, sent: number, events: Emitter): void {
  events.emit('counter', customMetric.eventsSent, sent);
  const answer = (typeof body === 'string' ? safeJson(body) : body) as { accepted?: number; rejected?: unknown[] } | undefined;
  if (status >= 200 && status < 300 && typeof answer?.accepted === 'number') {
    events.emit('counter', customMetric.eventsAccepted, answer.accepted);
    events.emit('counter', customMetric.eventsRejected, answer.rejected?.length ?? 0);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** beforeRequest of the ingest POST. */
export function deviceBatch(request: Request, context: Vars, _events: Emitter, next: Next): void {
  const { key, events } = nextBatch(runContext(context));
  request.json = events;
  request.headers = { ...request.headers, authorization: `Bearer ${key}` };
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
