import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import { ConsumerRunner, EventCodec, eventDecoder, httpPart, installProblemHandler, installSecurityHeaders, partOf, pingRedis, plannedCapacity, registerApiDocs, registerOpsRoutes, serverOptions, withoutRequestLogs, type AccessRegistry, type CapacityPlan, type ClickHouseClient, type ListenOn, type Logger, type Part, type ReadinessCheck, type Redis, type SiteCatalog, type TowerProducer } from '@tower/shared';
import { Periodic } from './background.ts';
import { memoryBudget, sharedBudget } from './budget.ts';
import { CheckInMatcher } from './check-in.ts';
import { readGateConditions, registerConditionsRoute } from './conditions/routes.ts';
import { SlotDesk } from './desk.ts';
import { windowKeyOf, type LedgerRules, type SlotWindow } from './domain/ledger.ts';
import { adoptBookedTrucks } from './fleet/adoption.ts';
import { FleetRefusalWatch } from './fleet/refusals.ts';
import { registerFleetRoutes } from './fleet/routes.ts';
import { SlotHistoryWriter } from './history/slot-history.ts';
import { registerSlotRoutes } from './http/routes.ts';
import { SlotMetrics } from './metrics.ts';
import { bookableSites, bookingPageDirectory, registerBookingPage } from './page.ts';
import { KafkaChangePublisher } from './publisher.ts';
import { RedisSlotStore } from './store/slot-store.ts';
import { buildWebhooks, type WebhookSettings, type Webhooks } from './webhooks/service.ts';

export interface SlotsSettings {
  rules: LedgerRules;
  plan: CapacityPlan;
  retentionMs: number;
  sweepIntervalMs: number;
  outboxRelayMs: number;
  outboxGraceMs: number;
  kafkaSendTimeoutMs: number;
  maxRangeMs: number;
  maxBookings: number;
  /** Most bookings one POST /v1/bookings:batch holds. */
  maxBatchItems: number;
  /** How far ahead a window may be booked. */
  horizonMs: number;
  /** Requests per second and burst per token; `apiProcesses` > 1: the API processes share each bucket in Redis (budget.ts). */
  rateLimit: { perSecond: number; burst: number; apiProcesses?: number };
  topics: { slots: string; trucks: string; deadLetter: string };
  /** Consumer groups: check-in from truck events, the ClickHouse history. */
  groups: { checkIn: string; history: string };
  /** Firms' webhooks (their consumer group, retries, limits). */
  webhooks: WebhookSettings;
  /** The live gateway's WebSocket the booking page follows a firm's bookings on (`ws://…/v1/live`); absent or empty: the page polls. */
  liveUrl?: string;
}

export interface SlotsDependencies {
  settings: SlotsSettings;
  logger: Logger;
  catalog: SiteCatalog;
  access: AccessRegistry;
  redis: Redis;
  kafka: Kafka;
  producer: TowerProducer;
  clickhouse: ClickHouseClient;
  metrics: Registry;
  readiness: ReadinessCheck[];
  now?: () => number;
  /** Where to listen (main.ts); tests that inject leave it out. */
  listen?: ListenOn;
}

/** The slots service, built and not started: HTTP, the sweeper, the outbox relay, check-in and history consumers. */
export interface SlotsService {
  http: FastifyInstance;
  desk: SlotDesk;
  store: RedisSlotStore;
  sweeper: Periodic;
  relay: Periodic;
  checkIn: ConsumerRunner;
  history: SlotHistoryWriter;
  webhooks: Webhooks;
  /**
   * In start order: the history consumer, the outbox relay, the check-in consumer, the
   * webhook sender, the webhook consumer and the conditions watcher, the sweeper, HTTP.
   * Stopped in reverse: intake ends (HTTP finishes requests in flight), the sweeper, the
   * conditions watcher (its read in progress), the webhook consumer (offsets of
   * what is queued committed), the webhook sender (sends in flight finish; what is left
   * stays queued in Redis), check-in (offsets committed), the relay (what is left is published at the
   * next start), history (offsets committed).
   */
  parts: Part[];
  /** `parts` without HTTP: what one process runs for the whole service when the API runs in several (SLOTS_API_PROCESSES). */
  duties: Part[];
  /** HTTP alone: what each API process runs. */
  api: Part;
}

export async function buildSlots(deps: SlotsDependencies): Promise<SlotsService> {
  const now = deps.now ?? Date.now;
  const { settings, logger, metrics } = deps;
  // The plan changes only with a new start: a window's planned capacity is computed once.
  const planned = new Map<string, number>();
  const templateCapacity = (window: SlotWindow) => {
    const key = windowKeyOf(window);
    let capacity = planned.get(key);
    if (capacity === undefined) {
      if (planned.size > 100_000) planned.clear();
      planned.set(key, (capacity = plannedCapacity(settings.plan, window, settings.rules.windowMs)));
    }
    return capacity;
  };
  const store = new RedisSlotStore(deps.redis, { rules: settings.rules, templateCapacity, retentionMs: settings.retentionMs });
  const publisher = new KafkaChangePublisher(deps.producer, settings.topics.slots, store, settings.kafkaSendTimeoutMs);
  const desk = new SlotDesk(store, publisher, settings.plan, deps.catalog, { maxRangeMs: settings.maxRangeMs, maxBookings: settings.maxBookings, horizonMs: settings.horizonMs, knownFirm: (firm) => deps.access.hasFirm(firm) }, new SlotMetrics(metrics), new FleetRefusalWatch(metrics, logger));

  const sweeper = new Periodic('slot sweeper', settings.sweepIntervalMs, async () => {
    while ((await desk.sweep(now(), 500)) === 500);
  }, logger);
  const relay = new Periodic('outbox relay', settings.outboxRelayMs, async () => {
    for (;;) {
      const left = await store.unpublished(now() - settings.outboxGraceMs, 500);
      await publisher.publish(left);
      if (left.length < 500) return;
    }
  }, logger);
  new Gauge({
    name: 'tower_slots_outbox_entries',
    // Every process reads the same outbox: the whole service's figure is any one's, not their sum.
    aggregator: 'max',
    help: 'Slot changes in the Redis outbox not yet acknowledged by Kafka',
    registers: [metrics],
    async collect() {
      this.set(await store.outboxLength().catch(() => -1));
    },
  });
  new Gauge({
    name: 'tower_slots_outbox_oldest_age_seconds',
    // Every process reads the same outbox: the whole service's figure is any one's, not their sum.
    aggregator: 'max',
    help: 'Age of the oldest slot change in the Redis outbox not yet acknowledged by Kafka (0 when empty, -1 when Redis does not answer)',
    registers: [metrics],
    async collect() {
      const oldest = await store.oldestOutboxEntryAt().then((at) => (at === undefined ? 0 : Math.max(0, now() - at) / 1000), () => -1);
      this.set(oldest);
    },
  });

  const checkIn = new ConsumerRunner(
    {
      kafka: deps.kafka,
      mode: { kind: 'group', groupId: settings.groups.checkIn, fromBeginning: false, deadLetters: { topic: settings.topics.deadLetter, producer: deps.producer } },
      topics: [settings.topics.trucks],
      decoder: eventDecoder(new EventCodec(), { [settings.topics.trucks]: 'truck' }),
      logger: logger.child({ component: 'check-in' }),
      metrics,
    },
    new CheckInMatcher(desk, metrics),
  );
  const history = new SlotHistoryWriter(deps.kafka, { topic: settings.topics.slots, groupId: settings.groups.history, deadLetters: { topic: settings.topics.deadLetter, producer: deps.producer }, metrics }, deps.clickhouse, logger.child({ component: 'slot-history' }));

  const http = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, logController: withoutRequestLogs() });
  installProblemHandler(http);
  installSecurityHeaders(http);
  await registerApiDocs(http, {
    title: 'Móng Cái smart-gate control tower: crossing slots',
    description: [
      'Logistics firms book time slots to cross at Bắc Luân II and Vạn Ninh: hold a place in a 30-minute window of a lane group, confirm it, and the gate checks the truck in when its arrival is seen.',
      'Live availability and a firm’s own booking changes are on the Operations Center WebSocket (/v1/live, channels `slots` and `bookings`).',
    ].join(' '),
    securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a firm’s API key or an operator token, <id>.<secret>, as in .local/credentials.json' } },
  });
  registerOpsRoutes(http, { metrics, readiness: [{ name: 'redis', check: () => pingRedis(deps.redis) }, ...deps.readiness] });
  registerBookingPage(http, bookingPageDirectory, { sites: bookableSites(deps.catalog), cancelCutoffMs: settings.rules.cancelCutoffMs, liveUrl: settings.liveUrl ?? '' });
  const { apiProcesses = 1, ...rate } = settings.rateLimit;
  const budget = apiProcesses > 1 ? sharedBudget(deps.redis, rate, apiProcesses, now, logger) : memoryBudget(rate, now);
  const webhooks = buildWebhooks({
    settings: settings.webhooks,
    topic: settings.topics.slots,
    kafka: deps.kafka,
    redis: deps.redis,
    windows: { bookingsIn: (window, at) => store.windowBookings([window], settings.maxBookings, at), plannedCapacity: templateCapacity },
    conditions: () => readGateConditions(deps.redis, logger),
    deadLetters: { topic: settings.topics.deadLetter, producer: deps.producer },
    logger,
    metrics,
    now,
  });
  webhooks.registerRoutes(http, { access: deps.access, budget });
  registerConditionsRoute(http, { redis: deps.redis, access: deps.access, budget, catalog: deps.catalog, logger });
  registerSlotRoutes(http, { desk, access: deps.access, budget, catalog: deps.catalog, maxRangeMs: settings.maxRangeMs, maxBookings: settings.maxBookings, maxBatchItems: settings.maxBatchItems, now });
  registerFleetRoutes(http, { desk, access: deps.access, budget, now });
  const duties = [
    partOf('history consumer (commit offsets)', history),
    partOf('outbox relay (what is left is published at the next start)', relay),
    partOf('check-in consumer (commit offsets)', checkIn),
    ...webhooks.parts,
    // Before the first sweep and before the API takes requests: trucks booked before fleets existed join their firm's fleet (once).
    partOf('sweeper', {
      start: async () => {
        await adoptBookedTrucks(store, now(), logger);
        sweeper.start();
      },
      stop: () => sweeper.stop(),
    }),
  ];
  const api = httpPart('http (stop intake, finish requests in flight)', http, deps.listen);
  return { http, desk, store, sweeper, relay, checkIn, history, webhooks, parts: [...duties, api], duties, api };
}
