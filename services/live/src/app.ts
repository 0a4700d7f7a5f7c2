import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { bookingView, builtPageContentSecurityPolicy, httpPart, installProblemHandler, installSecurityHeaders, partOf, registerApiDocs, registerBuiltPage, registerOpsRoutes, serverOptions, stopOnly, withoutRequestLogs, type AccessRegistry, type ClickHouseClient, type ListenOn, type Logger, type Part, type ReadinessCheck, type Redis, type SiteCatalog, type TowerProducer } from '@tower/shared';
import { openAndRecentAlerts, registerAlertRoutes } from './alerts/routes.ts';
import { ConditionsBoard, type ConditionsSettings } from './conditions/board.ts';
import { registerConditionsRoutes } from './conditions/routes.ts';
import { AlertEngine, type AlertEngineSettings } from './gateway/alert-engine.ts';
import { AlertLog } from './gateway/alert-log.ts';
import { AlertStore } from './gateway/alert-store.ts';
import { alignRange, fillSeries } from './domain/series.ts';
import type { LiveHub } from './gateway/hub.ts';
import { KpiBoard, type KpiBoardSettings } from './gateway/kpi-board.ts';
import { KpiRoundExchange, kpiRoundCounter } from './gateway/kpi-rounds.ts';
import { GatewayMetrics } from './gateway/metrics.ts';
import { attachGateway, type GatewaySettings } from './gateway/server.ts';
import type { SnapshotSources } from './gateway/session.ts';
import { SlotBoard, type SlotBoardSettings } from './gateway/slot-board.ts';
import { readRecentJourneys, type RecentJourneySettings } from './history/journeys-reader.ts';
import { readZoneKpis } from './history/kpi-reader.ts';
import { accessTokenScheme } from './history/reader-access.ts';
import { registerHistoryRoutes, type HistorySettings } from './history/routes.ts';
import { HistoryStore } from './history/store.ts';

export interface LiveSettings {
  history: HistorySettings;
  gateway: GatewaySettings;
  kpis: KpiBoardSettings;
  /** Snapshots of the `journeys` channel. */
  journeys: RecentJourneySettings;
  /** Snapshots of the `slots` and `bookings` channels. */
  slots: SlotBoardSettings;
  /** The gate conditions (`conditions` channel, GET /v1/conditions, the view in Redis for the slots service). */
  conditions: ConditionsSettings;
  /** The built wall display (services/live/dist/wall), served at `/`. */
  wallDirectory: string;
  alerts: AlertEngineSettings & {
    topic: string;
    /** How far back cleared alerts are shown. */
    recentMs: number;
  };
}

export interface LiveDependencies {
  settings: LiveSettings;
  logger: Logger;
  catalog: SiteCatalog;
  /** Reads (history API, snapshots, KPIs): the read-only user in a deployment. */
  clickhouse: ClickHouseClient;
  /** Writes the alert history (alert_events); `clickhouse` when absent. */
  alertLogClickhouse?: ClickHouseClient;
  /** Open alerts and the lead of alert evaluation, shared by every instance. */
  redis: Redis;
  /** Publishes alert changes. */
  producer: TowerProducer;
  access: AccessRegistry;
  /** Fed by the tick, alert and journey feeds (main.ts) or by a test. */
  hub: LiveHub;
  metrics: Registry;
  readiness: ReadinessCheck[];
  now?: () => number;
  /** Where to listen (main.ts); tests that inject leave it out. */
  listen?: ListenOn;
}

export interface Live {
  app: FastifyInstance;
  /** Publishes the KPI tiles and lane grid on `kpis` and `lanes`; start() it once the hub is fed (app.close() stops it). */
  kpiBoard: KpiBoard;
  /** Raises and clears alerts while this instance leads; start() it once the hub is fed. */
  alertEngine: AlertEngine;
  /** Crossing slots seen on the slot feed, for `slots` and `bookings` snapshots; main.ts feeds it. */
  slotBoard: SlotBoard;
  /** Closes every socket (1001) and stops the heartbeat; call before app.close(). */
  closeGateway(): Promise<void>;
  connections(): number;
  /**
   * In start order: HTTP, the WebSocket gateway, the KPI board, the alert engine. Stopped
   * in reverse: the alert engine (no more rounds), the KPI board, every socket closed
   * with 1001 (clients resume elsewhere), then HTTP finishes the requests in flight.
   */
  parts: Part[];
}

/** Builds the operators' address: history API and the live gateway; connects nothing, listens nowhere. */
export async function buildApp(deps: LiveDependencies): Promise<Live> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    ...serverOptions(),
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: withoutRequestLogs(),
    // An unknown query parameter is a 400 naming it, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  installProblemHandler(app);
  // The wall's own policy is set where its files are served (registerBuiltPage).
  installSecurityHeaders(app);
  await registerApiDocs(app, {
    title: 'Móng Cái smart-gate control tower: Smart Operations Center API',
    description:
      'Throughput history, the KPIs of now and truck journeys at Bắc Luân II, Vạn Ninh and the other crossings, read from the ClickHouse aggregates. Live figures: WebSocket /v1/live (docs/live-protocol.md).',
    securitySchemes: accessTokenScheme,
  });
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  registerBuiltPage(app, { directory: deps.settings.wallDirectory, buildCommand: 'npm run build:wall' });
  const store = new HistoryStore(deps.clickhouse);
  registerHistoryRoutes(app, { catalog: deps.catalog, access: deps.access, store, settings: deps.settings.history, now });

  // The alert lead reads KPI rounds for every instance (kpi-rounds.ts); alertEngine is built next, before any round.
  const roundSharing = { exchange: new KpiRoundExchange(deps.redis), leads: () => alertEngine.isLeading, counted: kpiRoundCounter(deps.metrics) };
  const kpiBoard = new KpiBoard(deps.hub, (at) => readZoneKpis(store, deps.catalog, deps.settings.history, at), deps.settings.kpis, deps.logger, now, roundSharing);
  app.addHook('onClose', async () => kpiBoard.stop());
  const alertSettings = deps.settings.alerts;
  const alertStore = new AlertStore(deps.redis);
  const alertLog = new AlertLog(deps.producer, alertSettings.topic, deps.alertLogClickhouse ?? deps.clickhouse, (id) => deps.access.displayName(id));
  const alertEngine = new AlertEngine(alertStore, alertLog, (maxAgeMs) => kpiBoard.current(maxAgeMs), deps.hub.epoch, alertSettings, deps.logger, now);
  app.addHook('onClose', async () => alertEngine.stop());
  const alertSources = { store: alertStore, log: alertLog, recentMs: alertSettings.recentMs, now };
  registerAlertRoutes(app, { ...alertSources, catalog: deps.catalog, access: deps.access, engine: alertEngine });
  const slotBoard = new SlotBoard(deps.settings.slots);
  const conditions = new ConditionsBoard({
    hub: deps.hub,
    slotBoard,
    catalog: deps.catalog,
    plan: deps.settings.slots.plan,
    clickhouse: deps.clickhouse,
    redis: deps.redis,
    currentRound: () => kpiBoard.current(),
    leads: () => alertEngine.isLeading,
    settings: deps.settings.conditions,
    logger: deps.logger,
  });
  kpiBoard.onRound((round) => conditions.onRound(round));
  registerConditionsRoutes(app, { catalog: deps.catalog, access: deps.access, board: conditions, rate: deps.settings.gateway.messageRate, now });
  const snapshots: SnapshotSources = {
    // The last 60 minutes in 1-minute buckets (as GET /v1/throughput gives them), then the newest tick of each window.
    throughput: async (filter, clickhouse) => {
      const range = alignRange({ step: '1m' }, now(), 60);
      const stored = await new HistoryStore(clickhouse).series({ site: filter.site, lane: filter.lane, laneKind: filter.kind, fromSeconds: range.fromMs / 1000, toSeconds: range.toMs / 1000, step: '1m' });
      const history = fillSeries(range, stored).map(({ start, events, trucksCrossed, containersMoved, teuMoved, tonnes }) => ({ start, events, trucksCrossed, containersMoved, teuMoved, tonnes }));
      return { history, windows: deps.hub.board.matching(filter, now()) };
    },
    kpis: (filter) => kpiBoard.kpis(filter),
    lanes: (filter) => kpiBoard.lanes(filter),
    alerts: async (filter) => ({ alerts: await openAndRecentAlerts(alertSources, filter.site) }),
    journeys: async (filter, clickhouse) => ({ journeys: await readRecentJourneys(new HistoryStore(clickhouse), filter, deps.settings.journeys, now()) }),
    slots: async (filter, clickhouse) => ({ windows: await slotBoard.windowSnapshot(filter.site, now(), clickhouse) }),
    bookings: async (filter, clickhouse) => ({ bookings: (await slotBoard.bookingSnapshot(filter.firm, now(), clickhouse)).map(bookingView) }),
    conditions: (filter) => conditions.current(filter.site),
  };
  const gateway = attachGateway(app, {
    settings: deps.settings.gateway,
    access: deps.access,
    hub: deps.hub,
    catalog: deps.catalog,
    snapshots,
    clickhouse: deps.clickhouse,
    metrics: new GatewayMetrics(deps.metrics),
    logger: deps.logger,
  });
  const parts = [
    httpPart('http (finish requests in flight)', app, deps.listen),
    stopOnly('websockets (1001, clients resume elsewhere)', () => gateway.close()),
    partOf('kpi board', kpiBoard),
    partOf('alert engine', alertEngine),
  ];
  return { app, kpiBoard, alertEngine, slotBoard, closeGateway: () => gateway.close(), connections: () => gateway.connections(), parts };
}

/** The wall's Content-Security-Policy: that of every page Vite built (its own scripts, styles and same-origin socket only). */
export const wallContentSecurityPolicy = builtPageContentSecurityPolicy;
