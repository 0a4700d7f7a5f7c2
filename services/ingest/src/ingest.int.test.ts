import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { describe, expect } from 'vitest';
import { EventCodec, createKafka, createMetricsRegistry, createTopicsReady, createProducer, hashSecret, loadCatalog, type FamilyName, type Logger, type Redis, type TowerEvent } from '@tower/shared';
import { atLeast, eventuallyProgressing, sampleEvents, test, testKafkaLogin, uniqueName } from '@tower/shared/testing';
import { standaloneKafkaSpec } from '../../../infra/local/servers.ts';
import { startServer, stopServer } from '../../../infra/local/supervisor.ts';
import { buildApp, type IngestSettings } from './app.ts';
import { DeviceRegistry } from './domain/devices.ts';
import { EventPublisher } from './publisher.ts';
import { RedisEventIdLedger } from './event-id-ledger.ts';

const secret = 'integration-test-secret-0123456789';
const devices = new DeviceRegistry([
  { id: 'bl2-gw-1', site: 'bac-luan-2', keySha256: hashSecret(secret), enabled: true },
  { id: 'vn-gw-1', site: 'van-ninh', keySha256: hashSecret(secret), enabled: true },
  { id: 'bl2-old', site: 'bac-luan-2', keySha256: hashSecret(secret), enabled: false },
]);
const bl2 = { authorization: `Bearer bl2-gw-1.${secret}` };
const vn = { authorization: `Bearer vn-gw-1.${secret}` };
const codec = new EventCodec();
const settings: IngestSettings = { maxBatchEvents: 1000, bodyLimitBytes: 4 * 1024 * 1024, deviceRatePerSecond: 100_000, deviceBurstEvents: 100_000 };

/** The app on a real producer; the eventId record on the test's own Redis prefix (the fixture cleans it up). */
async function ingestApp(kafka: Kafka, redis: Redis, logger: Logger, topics: Record<FamilyName, string>, overrides: Partial<IngestSettings> = {}, sendTimeoutMs = 10_000) {
  const producer = createProducer(kafka);
  await producer.connect();
  const { app } = await buildApp({
    settings: { ...settings, ...overrides },
    logger,
    catalog: loadCatalog(),
    devices,
    eventIds: new RedisEventIdLedger(redis, 3600),
    publisher: new EventPublisher(producer, codec, sendTimeoutMs, topics),
    metrics: createMetricsRegistry('ingest-test'),
    readiness: [],
  });
  return { app, close: async () => { await app.close(); await producer.disconnect(); } };
}

interface Landed { topic: string; key: string; event: TowerEvent; headers: Record<string, string>; timestamp: number }

async function readAll(kafka: Kafka, topics: string[], count: number): Promise<Landed[]> {
  const landed: Landed[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('verify') });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      landed.push({ topic, key: message.key?.toString() ?? '', event: codec.decode(message.value as Buffer).event, headers, timestamp: Number(message.timestamp) });
    },
  });
  await eventuallyProgressing({ what: `${count} messages`, progress: () => landed.length, until: atLeast(count) });
  await consumer.disconnect();
  return landed;
}

const post = (app: FastifyInstance, payload: unknown, headers: Record<string, string> = bl2, contentType = 'application/json') =>
  app.inject({ method: 'POST', url: '/v1/events', headers: { ...headers, 'content-type': contentType }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

describe('ingest API (real Kafka)', () => {
  test('a valid batch lands on the right topics with the right keys, acks=all, before the 200', async ({ kafka, logger, createTopic, redis }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const { app, close } = await ingestApp(kafka, redis.redis, logger, topics);
    const sentAt = Date.now();
    const bl2Events = sampleEvents().filter((e) => e.site === 'bac-luan-2');
    const vnEvents = sampleEvents().filter((e) => e.site === 'van-ninh');
    const first = await post(app, bl2Events);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ accepted: bl2Events.length, rejected: [] });
    expect((await post(app, vnEvents, vn)).statusCode).toBe(200);
    await close();

    const landed = await readAll(kafka, Object.values(topics), bl2Events.length + vnEvents.length);
    const byId = new Map(landed.map((l) => [l.event.eventId, l]));
    for (const event of [...bl2Events, ...vnEvents]) {
      const message = byId.get(event.eventId);
      expect(message?.event, event.type).toEqual(event);
      const family = event.type.split('.')[0] as FamilyName;
      expect(message?.topic).toBe(topics[family]);
      expect(message?.key).toBe(family === 'truck' ? '14C-123.45' : family === 'container' ? 'CSQU3054383' : `${event.site}/${(event as { lane: string }).lane}`);
      expect(message?.headers['tower-device']).toBe(event.site === 'van-ninh' ? 'vn-gw-1' : 'bl2-gw-1');
      expect(message?.timestamp).toBeGreaterThanOrEqual(sentAt);
      expect(message?.timestamp).toBeLessThanOrEqual(Date.now());
    }
  });

  test('a mixed batch accepts the valid events and reports each invalid one (207); NDJSON too', async ({ kafka, logger, createTopic, redis }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const { app, close } = await ingestApp(kafka, redis.redis, logger, topics);
    const [arrived, queued, plateRead] = sampleEvents();
    const response = await post(app, [arrived, { ...queued, lane: 'bl2-nowhere' }, { ...plateRead, observedAt: Date.now() + 3_600_000 }]);
    expect(response.statusCode).toBe(207);
    expect(response.json()).toEqual({
      accepted: 1,
      rejected: [
        { index: 1, eventId: queued!.eventId, errors: [{ field: '/lane', reason: `'bl2-nowhere' is not a lane in catalog v${loadCatalog().version}` }] },
        { index: 2, eventId: plateRead!.eventId, errors: [{ field: '/observedAt', reason: expect.stringMatching(/in the future/) }] },
      ],
    });
    const ndjson = await post(app, `${JSON.stringify(sampleEvents()[3])}\n{not json\n`, bl2, 'application/x-ndjson');
    expect(ndjson.statusCode).toBe(207);
    expect(ndjson.json().rejected[0]).toMatchObject({ index: 1, errors: [{ field: '/', reason: expect.stringMatching(/^line 2 is not JSON/) }] });
    await close();
    const landed = await readAll(kafka, [topics.truck], 2);
    expect(landed.map((l) => l.event.type).sort()).toEqual(['truck.arrived', 'truck.predeclaration-matched']);
  });

  test('each error status comes from its real condition, as problem+json', async ({ kafka, logger, createTopic, redis }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const { app, close } = await ingestApp(kafka, redis.redis, logger, topics, { deviceRatePerSecond: 1, deviceBurstEvents: 30, maxBatchEvents: 25, bodyLimitBytes: 64 * 1024 });
    const one = sampleEvents().slice(0, 1);
    const problem = (r: { statusCode: number; headers: Record<string, unknown>; json(): { status: number; detail: string } }) => {
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      return [r.statusCode, r.json().detail] as const;
    };
    expect(problem(await post(app, one, {}))).toEqual([401, expect.stringMatching(/Authorization: Bearer/)]);
    expect(problem(await post(app, one, { authorization: `Bearer bl2-gw-1.${secret}-wrong` }))).toEqual([401, 'unknown device or wrong key']);
    expect(problem(await post(app, one, { authorization: `Bearer bl2-old.${secret}` }))).toEqual([403, 'device bl2-old is disabled']);
    expect(problem(await post(app, 'a,b', bl2, 'text/csv'))[0]).toBe(415);
    expect(problem(await post(app, Array.from({ length: 26 }, () => one[0])))).toEqual([413, 'the batch has 26 events; at most 25 per request']);
    expect(problem(await post(app, 'x'.repeat(70 * 1024), bl2, 'application/x-ndjson'))[0]).toBe(413);
    expect(problem(await post(app, [{ type: 'lane.opened' }]))).toEqual([400, 'none of the 1 events is valid']);
    expect(problem(await post(app, '{"not":"an array"}'))[0]).toBe(400);
    // The burst is 30 events and the 400 above took 1: two batches of 12 pass, the third is over the rate.
    const twelve = () => sampleEvents().filter((e) => e.site === 'bac-luan-2').slice(0, 12);
    expect((await post(app, twelve())).statusCode).toBe(200);
    expect((await post(app, twelve())).statusCode).toBe(200);
    const limited = await post(app, twelve());
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(5);
    await close();
  });

  test('a gzipped batch (Content-Encoding: gzip, any case of the Bearer scheme) lands on Kafka like a plain one', async ({ kafka, logger, createTopic, redis }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const { app, close } = await ingestApp(kafka, redis.redis, logger, topics);
    const events = sampleEvents().filter((e) => e.site === 'bac-luan-2');
    const [first, ...rest] = events;
    const gzipped = (body: string, encoding: string, contentType = 'application/json') =>
      app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `bearer bl2-gw-1.${secret}`, 'content-type': contentType, 'content-encoding': encoding }, payload: zlib.gzipSync(body) });
    const json = await gzipped(JSON.stringify(rest), 'gzip');
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ accepted: rest.length, rejected: [] });
    const ndjson = await gzipped(`${JSON.stringify(first)}\n`, 'X-GZIP', 'application/x-ndjson');
    expect(ndjson.json()).toEqual({ accepted: 1, rejected: [] });
    await close();
    const landed = await readAll(kafka, Object.values(topics), events.length);
    expect(landed.map((l) => l.event).sort((a, b) => a.eventId.localeCompare(b.eventId))).toEqual([...events].sort((a, b) => a.eventId.localeCompare(b.eventId)));
  });

  test('the body limit holds for the decoded bytes: gzip bombs are 413 without being inflated whole; bad gzip 400; other codings 415', async ({ kafka, logger, createTopic, redis }) => {
    const topics = { truck: await createTopic(), container: await createTopic(), lane: await createTopic() };
    const { app, close } = await ingestApp(kafka, redis.redis, logger, topics);
    const send = (payload: Buffer, encoding: string) =>
      app.inject({ method: 'POST', url: '/v1/events', headers: { ...bl2, 'content-type': 'application/json', 'content-encoding': encoding }, payload });
    const problem = (r: Awaited<ReturnType<typeof send>>) => {
      expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      return { status: r.statusCode, ...(r.json() as { type: string; detail: string }) };
    };
    const zeros = (mib: number) => {
      const gzip = zlib.createGzip();
      const chunks: Buffer[] = [];
      gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
      const mebibyte = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < mib; i += 1) gzip.write(mebibyte);
      return new Promise<Buffer>((resolve) => gzip.end(() => resolve(Buffer.concat(chunks))));
    };
    // Refused for its Content-Type before the body is read: nothing is inflated, nothing crashes.
    const csv = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...bl2, 'content-type': 'text/csv', 'content-encoding': 'gzip' }, payload: 'not gzip' });
    expect(problem(csv).status).toBe(415);
    const small = await zeros(10);
    expect(small.length).toBeLessThan(20 * 1024);
    expect(problem(await send(small, 'gzip'))).toMatchObject({ status: 413, detail: `the body is over ${4 * 1024 * 1024} bytes once decoded` });

    const huge = await zeros(1024);
    expect(huge.length).toBeLessThan(2 * 1024 * 1024);
    const before = process.memoryUsage();
    expect(problem(await send(huge, 'gzip'))).toMatchObject({ status: 413, type: 'https://mongcai-tower.dev/problems/payload-too-large' });
    const after = process.memoryUsage();
    // Inflated whole, the gigabyte would have passed through memory.
    expect(after.rss - before.rss).toBeLessThan(256 * 1024 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);

    const notGzip = problem(await send(Buffer.from(JSON.stringify(sampleEvents())), 'gzip'));
    expect(notGzip).toMatchObject({ status: 400, errors: [{ field: '/body', reason: 'is not valid gzip' }] });
    const brotli = await send(zlib.brotliCompressSync(JSON.stringify(sampleEvents())), 'br');
    expect(problem(brotli)).toMatchObject({ status: 415, detail: 'Content-Encoding must be gzip or identity (none)' });
    expect(brotli.headers['accept-encoding']).toBe('gzip, identity');
    const catalog = (await app.inject({ method: 'GET', url: '/v1/catalog' })).json<{ clearancePoints: { site?: string }[] }>();
    expect(catalog.clearancePoints.map((p) => p.site ?? null)).toEqual([null, 'km3-4-hai-yen', null, null, 'po-hen', 'ka-long', null, null, null, null, null, null, null]);
    const wrongMethod = await app.inject({ method: 'GET', url: '/v1/events' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
    const openapi = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, { post: { parameters: { in: string; name: string; schema: { anyOf: { enum: string[] }[] } }[] } }> };
    const header = openapi.paths['/v1/events']?.post.parameters.find((p) => p.in === 'header' && p.name === 'content-encoding');
    expect(header?.schema.anyOf.flatMap((c) => c.enum)).toEqual(['gzip', 'x-gzip', 'identity']);
    await close();
  });

  test('Kafka stopped: 503 with Retry-After, never a 2xx', async ({ logger, infra, redis }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-outage-'));
    const spec = standaloneKafkaSpec(root, 27092, infra.credentials);
    await startServer(spec);
    try {
      const kafka = createKafka({ brokers: ['127.0.0.1:27092'], clientId: uniqueName('outage'), logger, retries: 1, connectionTimeoutMs: 1000, requestTimeoutMs: 3000, login: testKafkaLogin(infra) });
      const admin = kafka.admin();
      await admin.connect();
      await createTopicsReady(admin, ['t', 'c', 'l'].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })));
      await admin.disconnect();
      const { app, close } = await ingestApp(kafka, redis.redis, logger, { truck: 't', container: 'c', lane: 'l' }, {}, 5000);
      expect((await post(app, sampleEvents().slice(0, 3))).statusCode).toBe(200);

      await stopServer(spec);
      const started = Date.now();
      const response = await post(app, sampleEvents().slice(0, 3));
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ dependency: 'kafka', detail: expect.stringMatching(/nothing was accepted/) });
      expect(Date.now() - started).toBeLessThan(15_000);
      await close().catch(() => undefined);
    } finally {
      await stopServer(spec);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
