/**
 * Issue 13: schemathesis against the OpenAPI documents of the ingest API, the
 * operators' address (history API and alerts) and the slots API, each built on real
 * Kafka, ClickHouse and Redis and called with valid credentials. Any 5xx, or any
 * status code, content type, header or body its document does not declare, fails.
 * Every operation of the three documents is fuzzed; none is left out. Not in the
 * documents, so not fuzzed here: the WebSocket /v1/live (OpenAPI 3.0 cannot describe
 * it; gateway.int.test.ts), the wall's static files at / and the documents at /docs.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import { gateConditionsKey, loadCatalog, type LaneEvent } from '@tower/shared';
import { eventually, sampleEvents, test } from '@tower/shared/testing';
import type { Alert } from '../services/live/src/domain/alerts.ts';
import { startLive, testTokens } from '../services/live/src/test-support.ts';
import { registerFleet, startSlots, testKeys } from '../services/slots/src/test-support.ts';
import { exampleDeliveryId, exampleWebhookId } from '../services/slots/src/webhooks/schemas.ts';
import { deviceKeysBySite, startIngestToClickHouse } from './support/ingest.ts';
import { fuzz, requireSchemathesis, type FuzzResult, type FuzzRun } from './support/schemathesis.ts';

/** Fixed, so a failure reproduces; bounded, so the four runs take a few minutes on a busy 2-core machine. */
const seed = 20_261_130;
const maxExamples = 50;

const site = 'bac-luan-2';
const plate = '14C-123.45';
const windowMs = 30 * 60_000;
const operator = { authorization: `Bearer ${testTokens.operator}` };

const baseUrlOf = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

async function fuzzed(run: Omit<FuzzRun, 'seed' | 'maxExamples'>): Promise<FuzzResult & { name: string }> {
  const result = await fuzz({ ...run, seed, maxExamples });
  const seconds = (result.durationMs / 1000).toFixed(0);
  process.stdout.write(`[fuzz] ${run.name}: ${result.operations} operations, ${result.cases} test cases, ${seconds} s, ${result.passed ? 'passed' : 'FAILED'}\n`);
  return { ...result, name: run.name };
}

describe('fuzzing the OpenAPI documents with schemathesis (real Kafka, ClickHouse, Redis)', () => {
  const name = 'ingest, history and alerts, slots: no server error, every answer as documented';
  test(name, { timeout: 900_000 }, async ({ kafka, admin, redis, clickhouse, logger, createTopic }) => {
    await requireSchemathesis();
    const write = await startIngestToClickHouse({ kafka, admin, logger, createTopic, clickhouse });
    // The live app rewrites the gate conditions in Redis whenever it computes them (the
    // history fuzz run's GET /v1/conditions does): its copy must outlast the slots runs,
    // which answer 503 without one (a CI run met it expired after the default 30 s).
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka }, {}, { topic: await createTopic() }, { redisTtlMs: 900_000 });
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    const slotTopics = { slots: await createTopic(), trucks: write.topics.events.truck, deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics: slotTopics });
    await slots.http.listen({ port: 0, host: '127.0.0.1' });
    try {
      // Data behind the operations that read it: a truck's journey and an open alert, through ingest and the aggregator.
      const deviceKey = `Bearer ${deviceKeysBySite.get(site)}`;
      const now = Date.now();
      const fault: LaneEvent = {
        eventId: randomUUID(),
        type: 'lane.fault',
        site,
        lane: 'bl2-smart-ex-2',
        observedAt: now - 30_000,
        source: 'fuzz-test',
        faultCode: 'ANPR-DOWN',
      };
      const seeded = await fetch(`${baseUrlOf(write.ingest)}/v1/events`, {
        method: 'POST',
        headers: { authorization: deviceKey, 'content-type': 'application/json' },
        body: JSON.stringify([...sampleEvents(now - 60_000).filter((e) => e.site === site), fault]),
      });
      expect(seeded.status).toBe(200);
      const journeys = () => live.app.inject({ url: `/v1/journeys/${encodeURIComponent(plate)}`, headers: operator });
      await eventually(async () => ((await journeys()).statusCode === 200 ? true : undefined), { timeoutMs: 60_000, what: `journeys of ${plate}` });
      const alertId = await eventually(
        async () => {
          await live.alertEngine.evaluate();
          const { alerts } = (await live.app.inject({ url: `/v1/alerts?site=${site}`, headers: operator })).json<{ alerts: Alert[] }>();
          return alerts.find((a) => a.state === 'active')?.id;
        },
        { timeoutMs: 60_000, what: 'an open alert' },
      );
      // The gate conditions the slots service serves: the live view, kept in Redis for the whole run.
      const conditions = await live.app.inject({ url: '/v1/conditions', headers: operator });
      expect(conditions.statusCode).toBe(200);
      await redis.redis.set(gateConditionsKey, conditions.body, 'PX', 900_000);
      const windows = Array.from({ length: 6 }, (_, i) => (Math.ceil((now + 3 * 3_600_000) / windowMs) + i) * windowMs);
      // Every token is seen accepted before it is used (the device key and the operator
      // token were, above): a refused one would fuzz nothing but the 401.
      const firmKey = `Bearer ${testKeys.haiha}`;
      const operatorKey = `Bearer ${testKeys.operator}`;
      for (const authorization of [firmKey, operatorKey]) {
        expect((await slots.http.inject({ url: `/v1/slots?site=${site}`, headers: { authorization } })).statusCode).toBe(200);
      }
      // The document's example endpoint and delivery, of the firm (nothing sends the delivery: the sender is not started).
      const webhookId = exampleWebhookId;
      const deliveryId = exampleDeliveryId;
      const endpoint = { id: webhookId, firm: 'haiha-logistics', url: 'https://tms.example.com/hooks', events: ['booking.state-changed' as const], description: '', state: 'active' as const, pausedReason: null, pausedAt: null, consecutiveFailures: 0, createdAt: now };
      expect(await slots.webhooks.store.create(endpoint, 'whsec_fuzz', 10)).toBe(true);
      await slots.webhooks.store.enqueue({ id: deliveryId, endpointId: webhookId, firm: 'haiha-logistics', orderKey: 'bk_00000000000000000000', eventId: 'evt_fuzz', type: 'booking.state-changed', body: '{}', queuedAt: now }, now);
      // A truck of the firm's fleet, and a booking of it, so both roles' fleet and booking paths reach one (the fuzzer's own holds are an operator's 403).
      await registerFleet(slots.http, testKeys.haiha, ['14C-777.01']);
      const seededBooking = await slots.http.inject({
        method: 'POST',
        url: '/v1/bookings',
        headers: { authorization: firmKey, 'idempotency-key': `fuzz-seed-${now}` },
        payload: { site, laneKind: 'smart', direction: 'export', windowStart: windows[1], plate: '14C-777.01', cargoClass: 'farm-produce' },
      });
      expect(seededBooking.statusCode, seededBooking.body).toBe(201);
      const slotHints = {
        'path.id': [seededBooking.json<{ id: string }>().id],
        'body.site': [site],
        'body.laneKind': ['smart'],
        'body.windowStart': windows,
        'query.site': [site],
        'query.from': [windows[0]!],
        'query.to': [windows[5]!],
        'path.firm': ['me', 'haiha-logistics'],
        'path.plate': ['14C-777.01'],
        'body.plate': ['14C-777.01'],
        'query.firm': ['haiha-logistics'],
        'body.toFirm': ['donghung-trade', 'haiha-logistics'],
        // The fuzzer deletes the endpoint at some point: its own path comes last in the document, after the routes under it.
        'path.webhookId': [webhookId],
        'path.deliveryId': [deliveryId],
      };

      // Both bodies the ingest API takes are in its document, so both are fuzzed.
      const ingestDocument = (await (await fetch(`${baseUrlOf(write.ingest)}/docs/json`)).json()) as { paths: Record<string, { post: { requestBody: { content: object } } }> };
      expect(Object.keys(ingestDocument.paths['/v1/events']!.post.requestBody.content)).toEqual(['application/json', 'application/x-ndjson']);

      // One after the other (the machine has 2 cores); every run before the verdict, so one
      // report shows every failure.
      const results = [
        await fuzzed({
          name: 'ingest',
          baseUrl: baseUrlOf(write.ingest),
          authorization: deviceKey,
          hints: {
            'body.[*].site': [site],
            'body.[*].lane': loadCatalog().document.sites.find((s) => s.id === site)!.lanes.map((l) => l.id),
            'body.[*].observedAt': [now - 60_000, now - 3_600_000],
          },
        }),
        await fuzzed({
          name: 'history and alerts',
          baseUrl: baseUrlOf(live.app),
          authorization: operator.authorization,
          hints: {
            'path.plate': [plate],
            'path.id': [alertId],
            'query.site': [site],
            'query.lane': ['bl2-smart-ex-1'],
            'query.from': [now - 6 * 3_600_000],
            'query.to': [now],
          },
        }),
        // Firms hold, confirm and cancel; operators set windows and read any firm's bookings: both roles' paths.
        await fuzzed({ name: 'slots (firm key)', baseUrl: baseUrlOf(slots.http), authorization: firmKey, hints: slotHints }),
        await fuzzed({ name: 'slots (operator token)', baseUrl: baseUrlOf(slots.http), authorization: operatorKey, hints: slotHints }),
      ];
      for (const result of results) expect(result.operations, `${result.name}: operations tested`).toBeGreaterThan(0);
      const failed = results.filter((r) => !r.passed);
      const report = failed.map((r) => `schemathesis found failures in the ${r.name} API:\n${r.output}`).join('\n');
      expect(failed.map((r) => r.name), report).toEqual([]);
    } finally {
      await slots.close();
      await live.closeGateway();
      await live.app.close();
      await write.close();
    }
  });
});
