import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ConsumerRunner, decodeSlotMessage, jsonDecoder, partOf, type AccessRegistry, type ConsumedMessage, type GateConditions, type Logger, type Part, type Redis, type SlotMessage, type TowerProducer } from '@tower/shared';
import { Periodic } from '../background.ts';
import type { KeyBudget } from '../budget.ts';
import { ConditionsWatcher } from './conditions.ts';
import { queueTo, WebhookFanOut, type WindowBookings } from './fan-out.ts';
import { registerWebhookRoutes } from './routes.ts';
import { WebhookSender, type SenderSettings } from './sender.ts';
import { WebhookStore, type QueuedDelivery, type WebhookEndpoint } from './store.ts';

export interface WebhookSettings extends SenderSettings {
  /** Endpoints one firm may register. */
  maxPerFirm: number;
  /** Deliveries one endpoint may have queued (a paused one keeps queuing): one more is refused and counted. */
  maxQueuedPerEndpoint: number;
  /** Attempts kept per endpoint in its delivery log. */
  logSize: number;
  /** How long a delivery is kept (for the log's replay) after it was queued; at least the retry time. */
  keepMs: number;
  /** The consumer group on the slots topic (`tower-slots-webhooks`). */
  groupId: string;
  /** How often the gate conditions are read for threshold crossings. */
  conditionsPollMs: number;
  /** How long a lane group's new level must hold (by the views' asOf) before it is told; 0: at the first read that shows it. */
  conditionsSettleMs: number;
}

/**
 * Webhooks for firms' systems: the registration API, the consumer that queues a
 * delivery per booking change, window closure or capacity cut and subscribed endpoint
 * (its own group on `tower.slots.v1`, offsets committed once the deliveries are queued
 * in Redis), the watcher of the gate conditions (a crossing of a lane group's level),
 * and the sender. Parts in start order: the sender, the consumer, the conditions
 * watcher; stopped in reverse.
 */
export function buildWebhooks(deps: {
  settings: WebhookSettings;
  topic: string;
  kafka: Kafka;
  redis: Redis;
  /** The slot store's windows: their bookings and planned capacity (window events). */
  windows: WindowBookings;
  /** The gate conditions as the live service last wrote them, or undefined when none is fresh. */
  conditions: () => Promise<GateConditions | undefined>;
  deadLetters: { topic: string; producer: TowerProducer };
  logger: Logger;
  metrics: Registry;
  now: () => number;
}) {
  const { settings, logger } = deps;
  const store = new WebhookStore(deps.redis, { keepMs: Math.max(settings.keepMs, settings.retry.retryForMs), logSize: settings.logSize, maxQueued: settings.maxQueuedPerEndpoint });
  const refusedCount = new Counter({ name: 'tower_slots_webhook_deliveries_refused_total', help: 'Webhook deliveries refused because their endpoint had WEBHOOKS_MAX_QUEUED_PER_ENDPOINT queued, by event type', labelNames: ['type'], registers: [deps.metrics] });
  const refused = (delivery: QueuedDelivery) => refusedCount.inc({ type: delivery.type });
  censusGauges(store, deps.metrics);
  const queue = queueTo(store, refused, logger.child({ component: 'webhook-queue' }), deps.now);
  const sender = new WebhookSender(store, settings, logger.child({ component: 'webhook-sender' }), deps.metrics, refused, deps.now);
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
    new WebhookFanOut(store, deps.windows, queue, deps.now),
  );
  const watcher = new ConditionsWatcher(store, settings.conditionsSettleMs, deps.conditions, queue, deps.now);
  const conditions = new Periodic('webhook conditions watcher', settings.conditionsPollMs, () => watcher.round(), logger.child({ component: 'webhook-conditions' }), deps.now);
  const parts: Part[] = [
    partOf('webhook sender (sends in flight finish)', sender),
    partOf('webhook consumer (commit offsets)', consumer),
    partOf('webhook conditions watcher', conditions),
  ];
  return {
    store,
    sender,
    consumer,
    conditions,
    parts,
    registerRoutes: (http: FastifyInstance, options: { access: AccessRegistry; budget: KeyBudget }) =>
      registerWebhookRoutes(http, { store, access: options.access, budget: options.budget, maxPerFirm: settings.maxPerFirm, allowLoopbackHttp: settings.allowLoopbackHttp, refused, now: deps.now }),
  };
}

/** Endpoints and queued deliveries by the endpoint's state, read from Redis at each scrape (-1 when Redis does not answer). */
function censusGauges(store: WebhookStore, metrics: Registry): void {
  const states: WebhookEndpoint['state'][] = ['active', 'paused'];
  const read = (gauge: Gauge<'state'>, pick: (c: { endpoints: number; queued: number }) => number) =>
    store.census().then(
      (census) => states.forEach((state) => gauge.set({ state }, pick(census[state]))),
      () => states.forEach((state) => gauge.set({ state }, -1)),
    );
  new Gauge({
    name: 'tower_slots_webhook_queue_depth',
    // Read from Redis by every slots process: the whole service's figure is one process's (SLOTS_API_PROCESSES), not their sum.
    aggregator: 'max',
    help: 'Webhook deliveries queued (not yet delivered or given up), by the state of their endpoint: active (being sent) or paused (waiting for a resume)',
    labelNames: ['state'],
    registers: [metrics],
    async collect() {
      await read(this, (c) => c.queued);
    },
  });
  new Gauge({
    name: 'tower_slots_webhook_endpoints',
    // Read from Redis by every slots process: the whole service's figure is one process's (SLOTS_API_PROCESSES), not their sum.
    aggregator: 'max',
    help: 'Firms’ webhook endpoints by state: active, or paused after failing deliveries in a row',
    labelNames: ['state'],
    registers: [metrics],
    async collect() {
      await read(this, (c) => c.endpoints);
    },
  });
}
export type Webhooks = ReturnType<typeof buildWebhooks>;
