/**
 * Tracing of one event across processes: ingest, the aggregator and the live gateway as
 * real processes exporting to a small OTLP/HTTP (JSON) receiver of the test's own. An
 * event posted with a known W3C traceparent is followed from the ingest span (its child)
 * through the Kafka record's headers to the aggregator's batch span (linked to it), the
 * live round that published the tick (linked to the batch) and the gateway's delivery of
 * the tick (linked to the round).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { eventually, sampleEvents, test, uniqueName } from '@tower/shared/testing';
import { readDemoCredentials } from '../infra/provision/credentials.ts';
import { startServices } from './support/service-processes.ts';

/** A span as OTLP/HTTP JSON carries it (ids in hex), with the service that exported it. */
interface ReceivedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string; links?: { traceId: string; spanId: string }[] }[] }[];
  }[];
}

/** A collector of one test: keeps every span posted to /v1/traces. */
async function startReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces' && request.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpJson;
        for (const resource of body.resourceSpans ?? []) {
          const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) spans.push({ service, name: span.name, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, links: span.links ?? [] });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { spans, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('tracing of one event', () => {
  test('a traceparent posted to ingest is followed to the aggregator batch, the live round and the delivered tick', { timeout: 300_000 }, async ({ infra, logger, createTopic }) => {
    const receiver = await startReceiver();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-'));
    // The test's own topics and group: no other test's aggregator takes its records, no other tick reaches its gateway.
    const topics = { TOPIC_TRUCKS: await createTopic(), TOPIC_CONTAINERS: await createTopic(), TOPIC_LANES: await createTopic(), TOPIC_THROUGHPUT: await createTopic(), TOPIC_JOURNEYS: await createTopic() };
    const services = await startServices(infra, directory, logger, ['ingest', 'aggregator', 'live'], {
      ...topics,
      // The services' own Kafka users may read and write only the catalog's topics and groups.
      KAFKA_SASL_MECHANISM: infra.KAFKA_SASL_MECHANISM,
      KAFKA_SASL_USERNAME: infra.KAFKA_SASL_USERNAME,
      KAFKA_SASL_PASSWORD: infra.KAFKA_SASL_PASSWORD,
      CONSUMER_GROUP: uniqueName('tracing-aggregator'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    try {
      const demo = readDemoCredentials(directory);
      const events = sampleEvents().filter((e) => e.site === 'bac-luan-2');
      const device = demo.devices.find((d) => d.site === 'bac-luan-2');
      const post = (headers: Record<string, string>, body: unknown) =>
        fetch(services.url('ingest', '/v1/events'), { method: 'POST', headers: { authorization: `Bearer ${device?.apiKey}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

      // Tracing never refuses data: a malformed traceparent is ignored.
      const malformed = await post({ traceparent: '00-not-a-trace-context', tracestate: '=,=' }, events.slice(0, 1));
      expect(malformed.status).toBe(200);

      // A caller without a device key makes no span (checked once the next request's span is in: it ended later).
      const refusedTraceId = hex(16);
      const refused = await fetch(services.url('ingest', '/v1/events'), { method: 'POST', headers: { authorization: 'Bearer nobody.wrong', 'content-type': 'application/json', traceparent: `00-${refusedTraceId}-${hex(8)}-01` }, body: '[]' });
      expect(refused.status).toBe(401);

      const traceId = hex(16);
      const callerSpanId = hex(8);
      const posted = await post({ traceparent: `00-${traceId}-${callerSpanId}-01`, tracestate: 'tower=test' }, events.slice(1));
      expect(posted.status).toBe(200);

      const find = (what: string, match: (span: ReceivedSpan) => boolean) =>
        eventually(async () => receiver.spans.find(match), { timeoutMs: 120_000, what }).catch((error: Error) => {
          throw new Error(`${error.message}; the spans received: ${JSON.stringify(receiver.spans.map((s) => [s.service, s.name]))}`);
        });
      const linksTo = (span: ReceivedSpan, target: ReceivedSpan) => span.links.some((l) => l.traceId === target.traceId && l.spanId === target.spanId);

      const ingest = await find('the ingest span, the child of the caller', (s) => s.service === 'tower-ingest' && s.traceId === traceId);
      expect(ingest).toMatchObject({ name: 'POST /v1/events', parentSpanId: callerSpanId });
      expect(receiver.spans.filter((s) => s.traceId === refusedTraceId)).toEqual([]);
      const batch = await find('an aggregator batch span linked to the ingest span', (s) => s.service === 'tower-aggregator' && linksTo(s, ingest));
      expect([topics.TOPIC_TRUCKS, topics.TOPIC_CONTAINERS, topics.TOPIC_LANES].map((topic) => `process ${topic}`)).toContain(batch.name);
      // One batch, many parents: links, so the batch is a trace of its own.
      expect(batch.traceId).not.toBe(traceId);
      const batches = () => receiver.spans.filter((s) => s.service === 'tower-aggregator' && linksTo(s, ingest));
      const round = await find('the live round linked to a batch of the event', (s) => s.service === 'tower-aggregator' && s.name === 'publish live ticks' && batches().some((b) => linksTo(s, b)));
      await find('the gateway delivering a tick of the round', (s) => s.service === 'tower-live' && s.name === 'deliver tick' && linksTo(s, round));
      for (const [name, service] of Object.entries(services.running)) expect(service.child.exitCode, `${name}: ${service.stderr()}`).toBeNull();
    } finally {
      await services.stop();
      await receiver.close();
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
