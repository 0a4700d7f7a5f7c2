/** Builds a real slots service on a test's Redis prefix, topics and ClickHouse database (for integration tests). */
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { AccessRegistry, createProducer, hashSecret, Lifecycle, loadCatalog, roundTheClockPlan, type ClickHouseClient, type Logger, type Redis } from '@tower/shared';
import { buildSlots, type SlotsService, type SlotsSettings } from './app.ts';
import { defaultLedgerRules } from './domain/ledger.ts';
import type { WebhookSettings } from './webhooks/service.ts';

const secret = 'slots-test-secret-0123456789';

/** Keys of two firms, an operator and a wall display. */
export const testKeys = {
  haiha: `haiha-key.${secret}`,
  donghung: `donghung-key.${secret}`,
  operator: `operator-t.${secret}`,
  display: `wall-t.${secret}`,
};
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const testAccess = new AccessRegistry([
  { id: 'haiha-key', role: 'firm', firm: 'haiha-logistics', name: 'Hải Hà Logistics (test)', tokenSha256: hashSecret(secret), maxConnections: 5, enabled: true },
  { id: 'donghung-key', role: 'firm', firm: 'donghung-trade', name: 'Đông Hưng Trade (test)', tokenSha256: hashSecret(secret), maxConnections: 5, enabled: true },
  { id: 'operator-t', role: 'operator', name: 'test operator', tokenSha256: hashSecret(secret), maxConnections: 5, enabled: true },
  { id: 'wall-t', role: 'display', name: 'test wall', tokenSha256: hashSecret(secret), maxConnections: 5, enabled: true },
]);

/** Webhooks as tests want them: http://127.0.0.1 allowed, retries in milliseconds, a short poll. */
export const testWebhookSettings = (groupId: string): WebhookSettings => ({
  groupId,
  allowLoopbackHttp: true,
  maxPerFirm: 3,
  timeoutMs: 2000,
  maxResponseBytes: 4096,
  retry: { initialMs: 50, maxMs: 400, retryForMs: 10 * 60_000 },
  pauseAfter: 1000,
  concurrency: 16,
  perFirmConcurrency: 4,
  pollMs: 50,
  logSize: 100,
  maxQueuedPerEndpoint: 10_000,
  conditionsPollMs: 100,
  conditionsSettleMs: 0,
  keepMs: 3_600_000,
});

/**
 * Registers each plate in the fleet of the firm whose key this is, through the API as the
 * firm's own system would (a truck it has already is a 200: harmless). `api` is the app
 * (requests injected) or a running slots service's base URL. Throws with the answer when
 * one is refused.
 */
export async function registerFleet(api: FastifyInstance | string, key: string, plates: Iterable<string>): Promise<void> {
  const register = async (plate: string) => {
    const payload = { plate, country: /^[0-9]/.test(plate) ? 'VN' : 'CN' };
    const headers = { ...bearer(key), 'content-type': 'application/json' };
    const answer =
      typeof api === 'string'
        ? await fetch(`${api}/v1/fleet/trucks`, { method: 'POST', headers, body: JSON.stringify(payload) }).then(async (r) => ({ status: r.status, body: await r.text() }))
        : await api.inject({ method: 'POST', url: '/v1/fleet/trucks', headers, payload }).then((r) => ({ status: r.statusCode, body: r.body }));
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`registering truck ${plate} answered ${answer.status}: ${answer.body}`);
  };
  const all = [...new Set(plates)];
  for (let i = 0; i < all.length; i += 20) await Promise.all(all.slice(i, i + 20).map(register));
}

export interface SlotsTopics {
  slots: string;
  trucks: string;
  deadLetter: string;
}

export async function startSlots(
  deps: { kafka: Kafka; redis: Redis; clickhouse: ClickHouseClient; logger: Logger; topics: SlotsTopics; now?: () => number },
  settings: Partial<SlotsSettings> = {},
): Promise<SlotsService & { close(): Promise<void> }> {
  const producer = createProducer(deps.kafka);
  await producer.connect();
  const catalog = loadCatalog();
  const suffix = Math.random().toString(36).slice(2);
  const slots = await buildSlots({
    settings: {
      rules: defaultLedgerRules,
      plan: roundTheClockPlan(catalog.document),
      retentionMs: 7 * 86_400_000,
      sweepIntervalMs: 200,
      outboxRelayMs: 200,
      outboxGraceMs: 1000,
      kafkaSendTimeoutMs: 5000,
      maxRangeMs: 7 * 86_400_000,
      maxBookings: 1000,
      maxBatchItems: 20,
      horizonMs: 14 * 86_400_000,
      rateLimit: { perSecond: 10_000, burst: 10_000 },
      topics: deps.topics,
      groups: { checkIn: `check-in-${suffix}`, history: `history-${suffix}` },
      webhooks: testWebhookSettings(`webhooks-${suffix}`),
      ...settings,
    },
    logger: deps.logger,
    catalog,
    access: testAccess,
    redis: deps.redis,
    kafka: deps.kafka,
    producer,
    clickhouse: deps.clickhouse,
    metrics: new Registry(),
    readiness: [],
    ...(deps.now ? { now: deps.now } : {}),
  });
  return {
    ...slots,
    /** Stops the parts as main.ts does, whichever the test started, then the producer. */
    async close() {
      await new Lifecycle(deps.logger).adopt(slots.parts).stop('test over');
      await producer.disconnect();
    },
  };
}
