import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { ConsumerRunner, decodeSlotMessage, jsonDecoder, partOf, type AccessRegistry, type ConsumedMessage, type Logger, type Part, type RateLimiter, type Redis, type SlotMessage, type TowerProducer } from '@tower/shared';
import { WebhookFanOut } from './fan-out.ts';
import { registerWebhookRoutes } from './routes.ts';
import { WebhookSender, type SenderSettings } from './sender.ts';
import { WebhookStore } from './store.ts';

export interface WebhookSettings extends SenderSettings {
  /** Endpoints one firm may register. */
  maxPerFirm: number;
  /** Attempts kept per endpoint in its delivery log. */
  logSize: number;
  /** How long a delivery is kept (for the log's replay) after it was queued; at least the retry time. */
  keepMs: number;
  /** The consumer group on the slots topic (`tower-slots-webhooks`). */
  groupId: string;
}

/**
 * Webhooks for firms' systems: the registration API, the consumer that queues a
 * delivery per booking change and subscribed endpoint (its own group on
 * `tower.slots.v1`, offsets committed once the deliveries are queued in Redis), and the
 * sender. Parts in start order: the sender, then the consumer; stopped in reverse.
 */
export function buildWebhooks(deps: {
  settings: WebhookSettings;
  topic: string;
  kafka: Kafka;
  redis: Redis;
  deadLetters: { topic: string; producer: TowerProducer };
  logger: Logger;
  metrics: Registry;
  now: () => number;
}) {
  const { settings, logger } = deps;
  const store = new WebhookStore(deps.redis, { keepMs: Math.max(settings.keepMs, settings.retry.retryForMs), logSize: settings.logSize });
  const sender = new WebhookSender(store, settings, logger.child({ component: 'webhook-sender' }), deps.metrics, deps.now);
  const consumer = new ConsumerRunner<ConsumedMessage<SlotMessage>>(
    {
      kafka: deps.kafka,
      mode: { kind: 'group', groupId: settings.groupId, fromBeginning: false, deadLetters: deps.deadLetters },
      topics: [deps.topic],
      decoder: jsonDecoder(decodeSlotMessage),
      logger: logger.child({ component: 'webhook-fan-out' }),
      metrics: deps.metrics,
      maxWaitTimeMs: 250,
    },
    new WebhookFanOut(store, deps.now),
  );
  const parts: Part[] = [
    partOf('webhook sender (sends in flight finish)', sender),
    partOf('webhook consumer (commit offsets)', consumer),
  ];
  return {
    store,
    sender,
    consumer,
    parts,
    registerRoutes: (http: FastifyInstance, options: { access: AccessRegistry; rateLimiter: RateLimiter }) =>
      registerWebhookRoutes(http, { store, access: options.access, rateLimiter: options.rateLimiter, maxPerFirm: settings.maxPerFirm, allowLoopbackHttp: settings.allowLoopbackHttp, now: deps.now }),
  };
}
export type Webhooks = ReturnType<typeof buildWebhooks>;
