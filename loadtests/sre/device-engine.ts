/**
 * The Artillery engine `tower-devices`: each virtual user sends one device batch to
 * ingest and counts the answer, as the HTTP engine's step with the processor's
 * `deviceBatch` did, at half the load generator's CPU per batch. The HTTP engine gives
 * every virtual user its own agent, TCP connection and `got` request, and deep-clones
 * and walks a `json` body for `{{ }}` placeholders: about 1.9 ms of CPU per batch of 20
 * here against 0.9 ms, on the two cores the system under test shares with the generator
 * (docs/BENCHMARKS.md). Here the batch is one JSON string on a keep-alive connection
 * (devices keep theirs open; an agent with no socket limit, so a request never waits for
 * a free one: the open model holds). TLS options and proxies of the script are not
 * applied (an https ingest is reached with Node's defaults).
 *
 * Its figures carry the HTTP engine's names (`http.requests`, `http.codes.<code>`,
 * `http.response_time`, and the metrics-by-endpoint plugin's `ingest` ones), so the
 * SLOs and reports read them unchanged. The time runs from when the arrival was due
 * (arrival-timer.ts; a late timer counts) to the answer's last byte, a connection opened
 * if none was free: no less than the HTTP engine's, from the request written to the
 * first byte.
 *
 * Artillery loads an engine by its package name (`artillery-engine-<name>`): the load
 * kit bundles this file as that package into the run's directory and points
 * NODE_PATH at it (kit.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { arrivalDueAt, sleepArtilleryArrivals } from './arrival-timer.ts';
import { countAnswer, nextBatch, runContext, type Emitter, type Vars } from './device-batches.ts';

// Loaded in each Artillery worker before its phases start: arrivals are timed by a sleeping timer, not a busy loop.
sleepArtilleryArrivals();

interface EngineEvents extends Emitter {
  emit(kind: 'counter' | 'histogram', name: string, value: number): void;
  emit(kind: 'started'): void;
  emit(kind: 'rate', name: string): void;
  emit(kind: 'error', code: string): void;
}
type Done = (error: Error | null, context: Vars) => void;
type RequestError = Error & { code?: string };

/** The ingest request's name in the figures (the metrics-by-endpoint plugin's). */
const endpointName = 'ingest';
const clients = {
  'http:': { request: http.request, agent: new http.Agent({ keepAlive: true }) },
  'https:': { request: https.request, agent: new https.Agent({ keepAlive: true }) },
};

/** The ingest URL and its client, parsed once per run's ingest base URL (not per batch). */
const targets = new Map<string, { url: URL; client: (typeof clients)['http:'] }>();
function targetOf(ingest: string): { url: URL; client: (typeof clients)['http:'] } {
  let target = targets.get(ingest);
  if (!target) {
    const url = new URL(`${ingest}/v1/events`);
    target = { url, client: url.protocol === 'https:' ? clients['https:'] : clients['http:'] };
    targets.set(ingest, target);
  }
  return target;
}

export default class DeviceBatchEngine {
  private readonly timeoutMs: number;

  constructor(script: { config: { http?: { timeout?: number } } }) {
    this.timeoutMs = (script.config.http?.timeout ?? 30) * 1000;
  }

  createScenario(_scenario: unknown, events: EngineEvents): (context: Vars, done: Done) => void {
    return (context, done) => {
      const started = arrivalDueAt() ?? performance.now();
      events.emit('started');
      let settled = false;
      const settle = (error: RequestError | null) => {
        if (settled) return false;
        settled = true;
        clearTimeout(deadline);
        if (error) {
          events.emit('error', error.code ?? error.message);
          events.emit('counter', `plugins.metrics-by-endpoint.${endpointName}.errors.${error.code ?? error.name}`, 1);
        }
        done(error, context);
        return true;
      };
      // The whole exchange, not the socket's idle time: an answer that trickles in still ends.
      const deadline = setTimeout(() => request?.destroy(Object.assign(new Error(`no whole answer from ingest within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })), this.timeoutMs);
      let request: http.ClientRequest | undefined;
      try {
        const run = runContext(context);
        const { key, events: batch } = nextBatch(run);
        const body = JSON.stringify(batch);
        const { url, client } = targetOf(run.ingest);
        request = client.request(url, {
          method: 'POST',
          agent: client.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` },
        });
        request.on('error', settle);
        request.once('response', (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', settle);
          response.once('end', () => {
            const elapsed = performance.now() - started;
            const status = response.statusCode ?? 0;
            const answer = Buffer.concat(chunks);
            events.emit('counter', 'http.downloaded_bytes', answer.length);
            events.emit('counter', `http.codes.${status}`, 1);
            events.emit('counter', 'http.responses', 1);
            events.emit('histogram', 'http.response_time', elapsed);
            events.emit('counter', `plugins.metrics-by-endpoint.${endpointName}.codes.${status}`, 1);
            events.emit('histogram', `plugins.metrics-by-endpoint.response_time.${endpointName}`, elapsed);
            countAnswer(status, answer.toString(), batch.length, events);
            settle(null);
          });
        });
        events.emit('counter', 'http.requests', 1);
        events.emit('rate', 'http.request_rate');
        request.end(body);
      } catch (error) {
        // A batch that cannot be made or sent (a broken run context, a bad URL) fails its virtual user, not the worker.
        settle(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }
}
