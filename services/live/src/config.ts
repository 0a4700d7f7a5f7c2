import { defaultAlertThresholds } from './domain/alerts.ts';
import { defaultTileThresholds, type TileThresholds } from './domain/kpis.ts';
import { clickhouseEnv, env, kafkaEnv, logEnv, redisEnv, type ConditionThresholds, type ConfigOf } from '@tower/shared';
import { tracingEnv } from '@tower/shared/tracing';
import type { MessageRate } from './gateway/message-gate.ts';
import type { SnapshotBudgets } from './gateway/snapshot-reads.ts';

export const liveEnv = {
  PORT: env.port({ default: 8080, description: "HTTP and WebSocket port: the operators' one address" }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...kafkaEnv,
  ...clickhouseEnv,
  CLICKHOUSE_ALERT_LOG_USER: env.string({ default: '', description: 'ClickHouse user that writes the alert history (alert_events), a writer; empty: CLICKHOUSE_USER' }),
  CLICKHOUSE_ALERT_LOG_PASSWORD: env.string({ default: '', description: 'its password' }),
  ...redisEnv,
  ...logEnv,
  ...tracingEnv,
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog (sites, lanes, zones)' }),
  WALL_DIR: env.string({ default: 'services/live/dist/wall', description: 'the built wall display served at / (npm run build:wall)' }),
  ACCESS_FILE: env.string({ default: '.local/access.json', description: 'display and operator tokens (ids, roles, SHA-256 of secrets), written by npm start / provision' }),
  ACCESS_RELOAD_MS: env.integer({ default: 2000, min: 100, max: 600_000, description: 'how often the access registry file is checked for changes (tokens added, disabled or given more connections take effect without a restart)' }),
  TOPIC_THROUGHPUT: env.string({ default: 'tower.throughput.v1', description: 'live throughput ticks topic (read as a broadcast)' }),
  TOPIC_JOURNEYS: env.string({ default: 'tower.journeys.v1', description: 'live journey updates topic (read as a broadcast)' }),
  TOPIC_SLOTS: env.string({ default: 'tower.slots.v1', description: 'crossing-slot changes from the slots service (read as a broadcast: `slots` and `bookings` channels)' }),
  CAPACITY_PLAN_FILE: env.string({ default: '', description: 'capacity plan of the slots service (the same file), for windows nobody booked yet; empty: the catalog default' }),
  SLOT_WINDOW_MINUTES: env.integer({ default: 30, min: 5, max: 240, description: 'slot window length; the same as the slots service’s' }),
  LIVE_SLOT_HOURS: env.integer({ default: 6, min: 1, max: 7 * 24, description: 'a `slots` snapshot covers the current window to this many hours ahead' }),
  LIVE_BOOKINGS_MAX: env.integer({ default: 2000, min: 1, max: 100_000, description: 'most bookings in a `bookings` snapshot (windows from a day ago to a week ahead)' }),
  TOPIC_ALERTS: env.string({ default: 'tower.alerts.v1', description: 'alert changes (written by the leading instance and on acknowledgement, read as a broadcast)' }),
  ALERT_EVALUATE_MS: env.integer({ default: 5000, min: 500, max: 300_000, description: 'how often the leading instance evaluates the alert rules' }),
  ALERT_CLEAR_AFTER_MS: env.integer({ default: 60_000, min: 0, max: 3_600_000, description: 'a cause absent this long clears its alert (no flapping)' }),
  ALERT_LEASE_MS: env.integer({ default: 15_000, min: 1000, max: 600_000, description: 'the lead of alert evaluation lapses after this without renewal' }),
  ALERT_RECENT_HOURS: env.integer({ default: 12, min: 1, max: 24 * 30, description: 'cleared alerts shown on the wall and in GET /v1/alerts' }),
  ALERT_QUEUE_WARNING: env.integer({ default: defaultAlertThresholds.queueWarningVehicles, min: 1, description: 'vehicles queuing at a lane that raise a warning' }),
  ALERT_QUEUE_CRITICAL: env.integer({ default: defaultAlertThresholds.queueCriticalVehicles, min: 1, description: 'vehicles queuing at a lane that make it critical' }),
  CONDITIONS_BUSY_WAIT_MINUTES: env.integer({ default: 20, min: 1, max: 24 * 60, description: 'gate conditions: a lane group whose expected wait reaches this many minutes is busy (a lane queue at ALERT_QUEUE_WARNING too)' }),
  CONDITIONS_CONGESTED_WAIT_MINUTES: env.integer({ default: 45, min: 1, max: 24 * 60, description: 'gate conditions: an expected wait from this many minutes is congested (a lane queue at ALERT_QUEUE_CRITICAL too)' }),
  CONDITIONS_MIN_TRUCKS_PER_HOUR: env.integer({ default: 6, min: 1, max: 10_000, description: 'gate conditions: fewer trucks through a lane group in the last hour give no expected wait (null, too-little-throughput), never a made-up one' }),
  CONDITIONS_REDIS_TTL_MS: env.integer({ default: 30_000, min: 1000, max: 3_600_000, description: 'the gate conditions the leading instance writes to Redis (conditions:current, for the slots service) expire after this: a few rounds of ALERT_EVALUATE_MS' }),
  ALLOWED_ORIGINS: env.origins({ default: ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://127.0.0.1:8082', 'http://localhost:8082'], description: 'origins a browser may open /v1/live from: the wall’s own, and the dispatchers’ booking page on the slots API (8082), which follows its firm’s bookings here' }),
  HISTORY_MAX_BUCKETS: env.integer({ default: 2000, min: 10, max: 100_000, description: 'most buckets one /v1/throughput answer may hold; a longer range needs a coarser step' }),
  JOURNEY_LOOKBACK_DAYS: env.integer({ default: 7, min: 1, max: 90, description: 'how far back /v1/journeys/:plate looks when the request does not say' }),
  CLEARANCE_TARGET_MS: env.integer({ default: defaultTileThresholds.clearanceTargetMs, min: 1000, max: 3_600_000, description: 'clearance p95 target of the smart lanes (the 15 s benchmark of Hữu Nghị): the clearance tiles and the clearance-over-target alert' }),
  KPI_MIN_TRUCKS: env.integer({ default: defaultTileThresholds.clearanceMinTrucks, min: 1, max: 10_000, description: 'fewest trucks in the last hour a clearance tile, and the clearance-over-target alert, is judged on; fewer show "too few" (neutral, not red) and raise nothing' }),
  KPI_LANES_OPEN_WARNING_PERCENT: env.integer({ default: defaultTileThresholds.lanesOpenWarningShare * 100, min: 1, max: 100, description: 'the lanes-open tile warns when fewer than this share (%) of the lanes are open or congested' }),
  QUEUE_SAMPLE_FRESH_MS: env.integer({ default: 15 * 60_000, min: 60_000, max: 24 * 3_600_000, description: "a lane's last queue sample counts as its current queue for this long" }),
  LANE_STATE_LOOKBACK_DAYS: env.integer({ default: 7, min: 1, max: 90, description: "how far back a lane's last open/closed/fault event is looked for" }),
  WS_MAX_SUBSCRIPTIONS: env.integer({ default: 32, min: 1, max: 1000, description: 'subscriptions per WebSocket connection' }),
  WS_MAX_PAYLOAD_BYTES: env.integer({ default: 16 * 1024, min: 1024, max: 1024 * 1024, description: 'largest client message; bigger closes the socket (1009)' }),
  WS_PING_INTERVAL_MS: env.integer({ default: 15_000, min: 1000, max: 300_000, description: 'ping period; a client that missed the previous ping is closed' }),
  WS_SOFT_QUEUE_BYTES: env.integer({ default: 256 * 1024, min: 1024, description: 'bytes queued on a socket past which deltas are conflated to the newest per window' }),
  WS_HARD_QUEUE_BYTES: env.integer({ default: 4 * 1024 * 1024, min: 4096, description: 'bytes queued past which a slow client is closed (4008)' }),
  WS_SLOW_CLOSE_MS: env.integer({ default: 30_000, min: 100, max: 600_000, description: 'a client conflated for longer than this is closed (4008)' }),
  WS_MESSAGE_RATE: env.integer({ default: 10, min: 1, max: 100_000, description: 'client messages per second per socket (token bucket); over it a message is dropped with a `rate-limited` error' }),
  WS_MESSAGE_BURST: env.integer({ default: 40, min: 1, max: 1_000_000, description: 'messages a socket may send at once before WS_MESSAGE_RATE applies (the bucket’s size)' }),
  WS_MESSAGE_REFUSED_CLOSE: env.integer({ default: 40, min: 1, max: 1_000_000, description: 'messages dropped in a row for the rate that close the socket (4029)' }),
  WS_SNAPSHOTS_PER_SOCKET: env.integer({ default: 2, min: 1, max: 1000, description: 'snapshot reads one socket may have started at once; its other subscriptions wait their turn' }),
  WS_SNAPSHOTS_PER_TOKEN: env.integer({ default: 4, min: 1, max: 10_000, description: 'snapshot reads all sockets of one token may have started at once' }),
  WS_SNAPSHOT_POOL_OPERATOR: env.integer({ default: 4, min: 1, max: 1000, description: 'snapshot reads running at once on an instance for operator tokens' }),
  WS_SNAPSHOT_POOL_DISPLAY: env.integer({ default: 2, min: 1, max: 1000, description: 'snapshot reads running at once on an instance for display tokens (a pool of their own)' }),
  WS_SNAPSHOT_POOL_FIRM: env.integer({ default: 2, min: 1, max: 1000, description: 'snapshot reads running at once on an instance for firm tokens (a pool of their own)' }),
  KPI_REFRESH_MS: env.integer({ default: 2000, min: 100, max: 60_000, description: 'KPI tiles and lane grid are read again at most this often while ticks arrive and someone watches' }),
  KPI_MAX_AGE_MS: env.integer({ default: 30_000, min: 1000, max: 3_600_000, description: 'KPIs older than this are read again even without new ticks (stale queue samples, day rollover)' }),
  LIVE_JOURNEYS_MAX: env.integer({ default: 200, min: 1, max: 5000, description: 'most journeys in a `journeys` snapshot (those with a step in the last hour, newest first)' }),
  RESUME_BUFFER_DELTAS: env.integer({ default: 2000, min: 10, max: 1_000_000, description: 'deltas kept per stream so a reconnecting client can resume without a new snapshot' }),
};

/** What the KPI tiles are judged by: the queue tile by the queue alert rule's own thresholds. */
export function tileThresholdsOf(config: ConfigOf<typeof liveEnv>): TileThresholds {
  return {
    clearanceTargetMs: config.CLEARANCE_TARGET_MS,
    clearanceMinTrucks: config.KPI_MIN_TRUCKS,
    queueWarningVehicles: config.ALERT_QUEUE_WARNING,
    queueCriticalVehicles: config.ALERT_QUEUE_CRITICAL,
    lanesOpenWarningShare: config.KPI_LANES_OPEN_WARNING_PERCENT / 100,
  };
}

/** What the gate conditions are judged by: the queue thresholds are the queue alert rule's. */
export function conditionThresholdsOf(config: ConfigOf<typeof liveEnv>): ConditionThresholds {
  return {
    busyWaitMinutes: config.CONDITIONS_BUSY_WAIT_MINUTES,
    congestedWaitMinutes: config.CONDITIONS_CONGESTED_WAIT_MINUTES,
    busyQueueVehicles: config.ALERT_QUEUE_WARNING,
    congestedQueueVehicles: config.ALERT_QUEUE_CRITICAL,
    minTrucksPerHour: config.CONDITIONS_MIN_TRUCKS_PER_HOUR,
  };
}

/** The gateway's message rate and snapshot budgets from the config. */
export function gatewayLimitsOf(config: ConfigOf<typeof liveEnv>): { messageRate: MessageRate; snapshotBudgets: SnapshotBudgets } {
  return {
    messageRate: { perSecond: config.WS_MESSAGE_RATE, burst: config.WS_MESSAGE_BURST, closeAfterRefused: config.WS_MESSAGE_REFUSED_CLOSE },
    snapshotBudgets: {
      perSocket: config.WS_SNAPSHOTS_PER_SOCKET,
      perToken: config.WS_SNAPSHOTS_PER_TOKEN,
      pools: { operator: config.WS_SNAPSHOT_POOL_OPERATOR, display: config.WS_SNAPSHOT_POOL_DISPLAY, firm: config.WS_SNAPSHOT_POOL_FIRM },
    },
  };
}
