/** Builds a real Smart Operations Center app on a test's ClickHouse database (for integration tests). */
import path from 'node:path';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import { AccessRegistry, createProducer, hashSecret, loadCatalog, loadConfig, roundTheClockPlan, type ClickHouseClient, type LaneEvent, type Logger, type TruckEvent, type ReadinessCheck, type Redis } from '@tower/shared';
import type { EventStore } from '../../aggregator/src/store.ts';
import { storeSeeded } from '../../aggregator/src/test-support.ts';
import WebSocket from 'ws';
import { eventuallyProgressing } from '@tower/shared/testing';
import { buildApp, type Live, type LiveSettings } from './app.ts';
import { conditionThresholdsOf, gatewayLimitsOf, liveEnv } from './config.ts';
import { defaultTileThresholds } from './domain/kpis.ts';
import { liveSubprotocol } from './domain/protocol.ts';
import { defaultAlertThresholds } from './domain/alerts.ts';
import { LiveHub } from './gateway/hub.ts';
import type { GatewaySettings } from './gateway/server.ts';

const secret = 'live-test-secret-0123456789';

/** The wall as `npm test` builds it (infra/local/bootstrap.sh). */
export const wallDirectory = path.resolve(import.meta.dirname, '../dist/wall');

/** Tokens the test registry accepts: a wall display allowed 3 sockets, and an operator. */
export const testTokens = { display: `wall-t.${secret}`, operator: `operator-t.${secret}`, disabled: `old-wall.${secret}`, haiha: `haiha-t.${secret}`, donghung: `donghung-t.${secret}` };

/** The test operator's display name, shown for what it acknowledges. */
export const testOperatorName = 'Trần Thu Hà';

export const testAccess = new AccessRegistry([
  { id: 'wall-t', role: 'display', name: 'test wall', tokenSha256: hashSecret(secret), maxConnections: 3, enabled: true },
  { id: 'operator-t', role: 'operator', name: 'test operator', displayName: testOperatorName, tokenSha256: hashSecret(secret), maxConnections: 10, enabled: true },
  { id: 'old-wall', role: 'display', name: 'retired wall', tokenSha256: hashSecret(secret), maxConnections: 3, enabled: false },
  { id: 'haiha-t', role: 'firm', firm: 'haiha-logistics', name: 'Hải Hà Logistics (test)', tokenSha256: hashSecret(secret), maxConnections: 3, enabled: true },
  { id: 'donghung-t', role: 'firm', firm: 'donghung-trade', name: 'Đông Hưng Trade (test)', tokenSha256: hashSecret(secret), maxConnections: 3, enabled: true },
]);

/** Headers of an HTTP read of the operators' API (history and alerts need a display or operator token). */
export const withToken = (token: string = testTokens.display) => ({ authorization: `Bearer ${token}` });

export const testGatewaySettings: GatewaySettings = {
  allowedOrigins: ['http://127.0.0.1:8080'],
  maxPayloadBytes: 16 * 1024,
  pingIntervalMs: 15_000,
  maxSubscriptions: 4,
  softQueueBytes: 256 * 1024,
  hardQueueBytes: 4 * 1024 * 1024,
  slowCloseMs: 30_000,
  // Message rate and snapshot budgets as a gateway started without their variables has them.
  ...gatewayLimitsOf(loadConfig(liveEnv, {})),
};

/**
 * A live app on the test's servers; its alert engine is built but not started (tests
 * that need it call `alertEngine.evaluate()` or `start()`), so nothing is published
 * unless a test asks.
 */
export async function startLive(
  deps: { logger: Logger; clickhouse: ClickHouseClient; redis: Redis; kafka: Kafka; hub?: LiveHub; now?: () => number; readiness?: ReadinessCheck[]; access?: AccessRegistry },
  gateway: Partial<GatewaySettings> = {},
  alerts: Partial<LiveSettings['alerts']> = {},
  conditions: Partial<LiveSettings['conditions']> = {},
  kpis: Partial<LiveSettings['kpis']> = {},
): Promise<Live & { hub: LiveHub; metrics: Registry }> {
  const producer = createProducer(deps.kafka);
  await producer.connect();
  const metrics = new Registry();
  const hub = deps.hub ?? new LiveHub(`test-${Math.random().toString(36).slice(2)}`, { resumeBufferDeltas: 100, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
  const live = await buildApp({
    settings: {
      history: { maxBuckets: 2000, journeyLookbackDays: 7, tiles: defaultTileThresholds, queueFreshMs: 15 * 60_000, laneStateLookbackDays: 7 },
      gateway: { ...testGatewaySettings, ...gateway },
      kpis: { refreshMs: 200, maxAgeMs: 30_000, fallbackMs: 3000, ...kpis },
      journeys: { activeMs: 3_600_000, lookbackMs: 6 * 3_600_000, maxJourneys: 200 },
      slots: { plan: roundTheClockPlan(loadCatalog().document), windowMs: 30 * 60_000, horizonMs: 6 * 3_600_000, bookingsLookbackMs: 86_400_000, bookingsAheadMs: 7 * 86_400_000, maxBookings: 2000 },
      conditions: { thresholds: conditionThresholdsOf(loadConfig(liveEnv, {})), windowMs: 30 * 60_000, redisTtlMs: 30_000, reseedMs: 10 * 60_000, ...conditions },
      wallDirectory,
      alerts: { topic: 'tower.alerts.v1', recentMs: 3_600_000, evaluateMs: 200, clearAfterMs: 1000, leaseMs: 5000, thresholds: defaultAlertThresholds, ...alerts },
    },
    logger: deps.logger,
    catalog: loadCatalog(),
    clickhouse: deps.clickhouse,
    redis: deps.redis,
    producer,
    // Another registry: a test whose pages sign in with the slots service's keys.
    access: deps.access ?? testAccess,
    hub,
    metrics,
    readiness: deps.readiness ?? [],
    ...(deps.now ? { now: deps.now } : {}),
  });
  live.app.addHook('onClose', async () => producer.disconnect());
  live.kpiBoard.start();
  return { ...live, hub, metrics };
}

/** Lane or truck events stored as the aggregator stores them (raw rows; the views do the rest: lane states, throughput). */
export async function storeEvents(store: EventStore, family: 'lane' | 'truck', events: (LaneEvent | TruckEvent)[]): Promise<void> {
  await storeSeeded(store, events.map((event, i) => ({ consumed: { topic: `tower.${family}s.v1`, partition: 0, offset: BigInt(Date.now() * 100 + i), ingestedAt: Date.now(), family, schemaVersion: 1, event } })));
}

export const storeLaneEvents = (store: EventStore, events: LaneEvent[]) => storeEvents(store, 'lane', events);

export type LiveMessage = { type: string; id?: string; seq?: number; stream?: string; resync?: boolean; code?: string; message?: string; data?: unknown; fromSeq?: number; toSeq?: number; conflated?: boolean };

/** A client that keeps every message it gets, in order. */
export async function connectLiveClient(port: number, options: { token?: string; viaProtocol?: boolean; origin?: string } = {}) {
  const token = options.token ?? testTokens.display;
  const url = `ws://127.0.0.1:${port}/v1/live${options.viaProtocol ? '' : `?token=${encodeURIComponent(token)}`}`;
  const protocols = options.viaProtocol ? [liveSubprotocol, `token.${token}`] : [liveSubprotocol];
  const ws = new WebSocket(url, protocols, options.origin ? { headers: { origin: options.origin } } : {});
  const messages: LiveMessage[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as LiveMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  // Waits as long as messages keep coming (a busy machine delivers 13 MB of deltas slowly); fails once none came for the stall.
  const next = (predicate: (m: LiveMessage) => boolean, what: string) => eventuallyProgressing({ what, progress: () => messages.length, until: () => messages.find(predicate) });
  return { ws, messages, closed, next, send: (message: object) => ws.send(JSON.stringify(message)) };
}
