/**
 * Device batches as the load generator sends them, shared by the processor (the smoke
 * scenario's HTTP step) and the device engine (every other scenario's devices): the
 * run context, the next batch of the pool stamped afresh, and what an answer counts.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { customMetric, type PoolEvent, type RunContext } from './run-context.ts';

/** An Artillery virtual user's context: its variables (the run context file's path among them). */
export interface Vars {
  vars: Record<string, unknown>;
}
/** Where Artillery takes a virtual user's figures. */
export interface Emitter {
  emit(kind: 'counter' | 'histogram', name: string, value: number): void;
}

const loaded = new Map<string, RunContext>();
let cursor = 0;

export function runContext(context: Vars): RunContext {
  const file = String(context.vars['runContext']);
  let run = loaded.get(file);
  if (!run) {
    run = JSON.parse(fs.readFileSync(file, 'utf8')) as RunContext;
    loaded.set(file, run);
  }
  return run;
}

/** The next batch of the pool, as the device sends it now: new ids, recent times, the run's source. */
export function nextBatch(run: RunContext): { key: string; events: PoolEvent[] } {
  const batch = run.pool[cursor++ % run.pool.length]!;
  const newest = batch.events[batch.events.length - 1]!.observedAt;
  const now = Date.now();
  const events = batch.events.map((e) => ({ ...e, eventId: randomUUID(), observedAt: now - Math.min(60_000, newest - e.observedAt), source: `${run.sourcePrefix}${e.source}`.slice(0, 64) }));
  const keys = run.deviceKeys[batch.site] ?? [];
  return { key: keys[cursor % Math.max(1, keys.length)] ?? '', events };
}

/** Counts a batch sent and, when ingest answered 2xx, the events it accepted and rejected. */
export function countAnswer(status: number, body: unknown, sent: number, events: Emitter): void {
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
