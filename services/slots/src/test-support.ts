/** Builds a real slots service on a test's Redis prefix, topics and ClickHouse database (for integration tests). */
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
  keepMs: 3_600_000,
});

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
