import os from 'node:os';
import { clickhouseEnv, env, kafkaEnv, logEnv, redisEnv } from '@tower/shared';
import { defaultLedgerRules, type LedgerRules } from './domain/ledger.ts';
import type { WebhookSettings } from './webhooks/service.ts';

const minutes = (ms: number) => ms / 60_000;

export const slotsEnv = {
  PORT: env.port({ default: 8082, description: 'HTTP port of the slots API' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  SLOTS_API_PROCESSES: env.integer({ default: 0, min: 0, max: 64, description: 'HTTP API processes sharing PORT (node:cluster), plus one process for the consumers, outbox relay, sweeper and webhooks; 1: everything in one process; 0: one per CPU core but one (left to Redis, Kafka and the rest), so one process on two cores, where two measured slower (docs/BENCHMARKS.md). The API processes share each key’s budget (RATE_PER_SECOND, RATE_BURST) in Redis, one script call per request, so a key has the configured budget whichever processes its connections meet' }),
  ...kafkaEnv,
  ...clickhouseEnv,
  ...redisEnv,
  ...logEnv,
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog (sites and their bookable lanes)' }),
  ACCESS_FILE: env.string({ default: '.local/access.json', description: 'firm API keys and operator tokens (ids, roles, firms, SHA-256 of secrets), written by npm start / provision' }),
  CAPACITY_PLAN_FILE: env.string({ default: '', description: 'capacity plan (weekly open lanes per lane group, dated overrides such as Tết; seeds/capacity-plan.example.json); empty: every bookable lane of the catalog open 24/7' }),
  TOPIC_SLOTS: env.string({ default: 'tower.slots.v1', description: 'slot changes (bookings and availability) are published here' }),
  TOPIC_TRUCKS: env.string({ default: 'tower.trucks.v1', description: 'truck events read for check-in (arrival) and completion (border crossed)' }),
  TOPIC_DEADLETTER: env.string({ default: 'tower.deadletter.v1', description: 'where undecodable truck events go' }),
  CONSUMER_GROUP_PREFIX: env.string({ default: 'tower-slots', description: 'its consumer groups are <prefix>-check-in (truck events), <prefix>-history and <prefix>-webhooks (slot changes); the tower-slots Kafka user may join tower-slots-* only' }),
  SLOT_WINDOW_MINUTES: env.integer({ default: minutes(defaultLedgerRules.windowMs), min: 5, max: 240, description: 'length of a slot window; must divide 24 hours' }),
  HOLD_MINUTES: env.integer({ default: minutes(defaultLedgerRules.holdMs), min: 1, max: 120, description: 'a hold expires unless confirmed within this' }),
  TOLERANCE_MINUTES: env.integer({ default: minutes(defaultLedgerRules.toleranceMs), min: 0, max: 240, description: 'an arrival this far before or after the window checks in' }),
  LATE_GRACE_MINUTES: env.integer({ default: minutes(defaultLedgerRules.lateGraceMs), min: 0, max: 24 * 60, description: 'after the tolerance, arrivals are still recorded (flagged late) this long before a no-show is marked' }),
  CANCEL_CUTOFF_MINUTES: env.integer({ default: minutes(defaultLedgerRules.cancelCutoffMs), min: 0, max: 7 * 24 * 60, description: 'firms cannot cancel a confirmed booking later than this before its window (operators can)' }),
  FIRM_CAP_PER_WINDOW: env.integer({ default: defaultLedgerRules.maxPerFirmPerWindow, min: 1, max: 100_000, description: 'anti-hoarding: places one firm may hold in one window' }),
  NO_SHOW_RATE_LIMIT_PERCENT: env.integer({ default: defaultLedgerRules.noShowRateLimit * 100, min: 0, max: 100, description: 'a firm whose no-show rate is over this…' }),
  NO_SHOW_MIN_DECIDED: env.integer({ default: defaultLedgerRules.noShowMinDecided, min: 1, max: 100_000, description: '…with at least this many decided bookings (arrived or no-show)…' }),
  NO_SHOW_CAP_PERCENT: env.integer({ default: defaultLedgerRules.noShowCapFactor * 100, min: 1, max: 100, description: '…has its cap per window cut to this percent (at least 1 place)' }),
  RETENTION_DAYS: env.integer({ default: 7, min: 1, max: 366, description: 'bookings stay in Redis this long after their window (history stays in ClickHouse)' }),
  SWEEP_INTERVAL_MS: env.integer({ default: 1000, min: 100, max: 60_000, description: 'how often expired holds and no-shows are marked and published' }),
  OUTBOX_RELAY_MS: env.integer({ default: 1000, min: 100, max: 60_000, description: 'how often changes left in the outbox (Kafka was down, an instance crashed) are published' }),
  OUTBOX_GRACE_MS: env.integer({ default: 5000, min: 100, max: 600_000, description: 'an outbox entry this old is the relay’s to publish (younger ones are still being published by their request)' }),
  KAFKA_SEND_TIMEOUT_MS: env.integer({ default: 5000, min: 100, max: 120_000, description: 'longest wait for Kafka to acknowledge a change before answering 503' }),
  FLEET_REFUSALS_PER_HOUR: env.integer({ default: defaultLedgerRules.registrationRefusalsPerHour, min: 1, max: 100_000, description: 'most truck registrations of one firm refused plate-in-another-fleet in an hour; past it its registrations answer 429 until the oldest is an hour old: no firm probes which plates others have' }),
  FLEET_MAX_TRUCKS: env.integer({ default: defaultLedgerRules.maxFleetTrucks, min: 1, max: 1_000_000, description: 'most trucks one firm may register in its fleet (POST /v1/fleet/trucks): a hostile firm cannot fill Redis' }),
  BOOKING_HORIZON_DAYS: env.integer({ default: 14, min: 1, max: 400, description: 'how far ahead a window may be booked' }),
  RATE_PER_SECOND: env.integer({ default: 20, min: 1, max: 1_000_000, description: 'requests per second per API key (token bucket); more is 429 with Retry-After' }),
  RATE_BURST: env.integer({ default: 100, min: 1, max: 1_000_000, description: 'burst of requests per API key' }),
  MAX_RANGE_DAYS: env.integer({ default: 7, min: 1, max: 60, description: 'longest range one availability or booking list may span' }),
  MAX_BOOKINGS: env.integer({ default: 1000, min: 1, max: 100_000, description: 'most bookings one list answers with' }),
  BATCH_MAX_ITEMS: env.integer({ default: 20, min: 1, max: 1000, description: 'most bookings one POST /v1/bookings:batch holds (a batch of N counts N requests against the key’s rate: keep it at most RATE_BURST)' }),
  LIVE_URL: env.string({ default: 'ws://127.0.0.1:8080/v1/live', description: 'the live gateway’s WebSocket the booking page (at /) follows a firm’s bookings on (its origin must be in the gateway’s ALLOWED_ORIGINS); empty: the page reads GET /v1/bookings every 3 s' }),
  WEBHOOKS_ALLOW_LOOPBACK_HTTP: env.boolean({ default: false, description: 'also accept webhook URLs http://127.0.0.1 and http://[::1] (tests, the demo); never in production' }),
  WEBHOOKS_MAX_PER_FIRM: env.integer({ default: 10, min: 1, max: 1000, description: 'webhook endpoints one firm may register' }),
  WEBHOOKS_TIMEOUT_MS: env.integer({ default: 5000, min: 100, max: 60_000, description: 'longest wait for a receiver to answer a delivery (then it is a failed attempt)' }),
  WEBHOOKS_RETRY_INITIAL_MS: env.integer({ default: 10_000, min: 10, max: 3_600_000, description: 'wait after a failed delivery; doubled after each further failure…' }),
  WEBHOOKS_RETRY_MAX_MS: env.integer({ default: 3_600_000, min: 10, max: 86_400_000, description: '…up to this' }),
  WEBHOOKS_RETRY_FOR_MINUTES: env.integer({ default: 24 * 60, min: 1, max: 7 * 24 * 60, description: 'a delivery still failing this long after it was queued is given up, and its booking’s next one sent' }),
  WEBHOOKS_PAUSE_AFTER: env.integer({ default: 20, min: 1, max: 100_000, description: 'failed attempts in a row after which an endpoint is paused (resume: POST /v1/webhooks/{id}:resume)' }),
  WEBHOOKS_CONCURRENCY: env.integer({ default: 64, min: 1, max: 10_000, description: 'webhook deliveries sent at once in all…' }),
  WEBHOOKS_PER_FIRM_CONCURRENCY: env.integer({ default: 4, min: 1, max: 1000, description: '…and for one firm, so one firm’s slow endpoints cannot hold up the others' }),
  WEBHOOKS_MAX_QUEUED_PER_ENDPOINT: env.integer({ default: 10_000, min: 10, max: 1_000_000, description: 'deliveries one webhook endpoint may have queued (a paused one keeps queuing); one more is refused and counted (tower_slots_webhook_deliveries_refused_total)' }),
  WEBHOOKS_CONDITIONS_POLL_MS: env.integer({ default: 5000, min: 100, max: 600_000, description: 'how often the gate conditions (written by the live service) are read for conditions.threshold-crossed' }),
  WEBHOOKS_CONDITIONS_SETTLE_MS: env.integer({ default: 60_000, min: 0, max: 3_600_000, description: 'how long a lane group’s new conditions level must hold before conditions.threshold-crossed tells it (a queue hovering at a threshold tells nothing)' }),
  WEBHOOKS_LOG_SIZE: env.integer({ default: 100, min: 1, max: 10_000, description: 'attempts kept per endpoint in its delivery log' }),
};

/** The API processes SLOTS_API_PROCESSES asks for on this machine. */
export const apiProcessesOf = (setting: number): number => (setting === 0 ? Math.max(1, os.availableParallelism() - 1) : setting);

export function ledgerRulesOf(config: {
  SLOT_WINDOW_MINUTES: number;
  HOLD_MINUTES: number;
  TOLERANCE_MINUTES: number;
  LATE_GRACE_MINUTES: number;
  CANCEL_CUTOFF_MINUTES: number;
  FIRM_CAP_PER_WINDOW: number;
  NO_SHOW_RATE_LIMIT_PERCENT: number;
  NO_SHOW_MIN_DECIDED: number;
  NO_SHOW_CAP_PERCENT: number;
  FLEET_MAX_TRUCKS: number;
  FLEET_REFUSALS_PER_HOUR: number;
}): LedgerRules {
  if ((24 * 60) % config.SLOT_WINDOW_MINUTES !== 0) throw new Error(`SLOT_WINDOW_MINUTES: must divide 24 hours (1440 minutes), got ${config.SLOT_WINDOW_MINUTES}`);
  return {
    windowMs: config.SLOT_WINDOW_MINUTES * 60_000,
    holdMs: config.HOLD_MINUTES * 60_000,
    toleranceMs: config.TOLERANCE_MINUTES * 60_000,
    lateGraceMs: config.LATE_GRACE_MINUTES * 60_000,
    cancelCutoffMs: config.CANCEL_CUTOFF_MINUTES * 60_000,
    maxPerFirmPerWindow: config.FIRM_CAP_PER_WINDOW,
    noShowRateLimit: config.NO_SHOW_RATE_LIMIT_PERCENT / 100,
    noShowMinDecided: config.NO_SHOW_MIN_DECIDED,
    noShowCapFactor: config.NO_SHOW_CAP_PERCENT / 100,
    maxFleetTrucks: config.FLEET_MAX_TRUCKS,
    registrationRefusalsPerHour: config.FLEET_REFUSALS_PER_HOUR,
  };
}

/** The webhooks' settings from the environment. */
export function webhookSettingsOf(config: {
  CONSUMER_GROUP_PREFIX: string;
  RETENTION_DAYS: number;
  WEBHOOKS_ALLOW_LOOPBACK_HTTP: boolean;
  WEBHOOKS_MAX_PER_FIRM: number;
  WEBHOOKS_TIMEOUT_MS: number;
  WEBHOOKS_RETRY_INITIAL_MS: number;
  WEBHOOKS_RETRY_MAX_MS: number;
  WEBHOOKS_RETRY_FOR_MINUTES: number;
  WEBHOOKS_PAUSE_AFTER: number;
  WEBHOOKS_CONCURRENCY: number;
  WEBHOOKS_PER_FIRM_CONCURRENCY: number;
  WEBHOOKS_LOG_SIZE: number;
  WEBHOOKS_MAX_QUEUED_PER_ENDPOINT: number;
  WEBHOOKS_CONDITIONS_POLL_MS: number;
  WEBHOOKS_CONDITIONS_SETTLE_MS: number;
}): WebhookSettings {
  return {
    groupId: `${config.CONSUMER_GROUP_PREFIX}-webhooks`,
    allowLoopbackHttp: config.WEBHOOKS_ALLOW_LOOPBACK_HTTP,
    maxPerFirm: config.WEBHOOKS_MAX_PER_FIRM,
    timeoutMs: config.WEBHOOKS_TIMEOUT_MS,
    maxResponseBytes: 4096,
    retry: { initialMs: config.WEBHOOKS_RETRY_INITIAL_MS, maxMs: config.WEBHOOKS_RETRY_MAX_MS, retryForMs: config.WEBHOOKS_RETRY_FOR_MINUTES * 60_000 },
    pauseAfter: config.WEBHOOKS_PAUSE_AFTER,
    concurrency: config.WEBHOOKS_CONCURRENCY,
    perFirmConcurrency: config.WEBHOOKS_PER_FIRM_CONCURRENCY,
    pollMs: 250,
    logSize: config.WEBHOOKS_LOG_SIZE,
    maxQueuedPerEndpoint: config.WEBHOOKS_MAX_QUEUED_PER_ENDPOINT,
    conditionsPollMs: config.WEBHOOKS_CONDITIONS_POLL_MS,
    conditionsSettleMs: config.WEBHOOKS_CONDITIONS_SETTLE_MS,
    keepMs: config.RETENTION_DAYS * 86_400_000,
  };
}
