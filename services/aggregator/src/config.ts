import { clickhouseEnv, env, kafkaEnv, logEnv } from '@tower/shared';
import { tracingEnv } from '@tower/shared/tracing';

export const aggregatorEnv = {
  PORT: env.port({ default: 8084, description: 'HTTP port for health, readiness and metrics' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  ...tracingEnv,
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog (lane kinds and directions)' }),
  TOPIC_TRUCKS: env.string({ default: 'tower.trucks.v1', description: 'truck events topic' }),
  TOPIC_CONTAINERS: env.string({ default: 'tower.containers.v1', description: 'container events topic' }),
  TOPIC_LANES: env.string({ default: 'tower.lanes.v1', description: 'lane events topic' }),
  TOPIC_DEADLETTER: env.string({ default: 'tower.deadletter.v1', description: 'dead-letter topic' }),
  TOPIC_THROUGHPUT: env.string({ default: 'tower.throughput.v1', description: 'live throughput ticks topic' }),
  TOPIC_JOURNEYS: env.string({ default: 'tower.journeys.v1', description: 'live journey updates topic' }),
  CONSUMER_SESSION_TIMEOUT_MS: env.integer({ default: 30_000, min: 6000, max: 300_000, description: 'how long a silent (crashed) member keeps its partitions before the group moves them' }),
  CONSUMER_GROUP: env.string({ default: 'tower-aggregator', description: 'Kafka consumer group of the aggregators' }),
  DEDUP_WINDOW_EVENTS: env.integer({ default: 50_000, min: 1000, max: 5_000_000, description: 'event ids remembered per partition to drop re-sent events' }),
  ALLOWED_LATENESS_MS: env.integer({ default: 120_000, min: 0, max: 3_600_000, description: 'how far behind the newest observation a window stays open' }),
  TICK_HORIZON_MS: env.integer({ default: 3_600_000, min: 60_000, max: 7 * 86_400_000, description: 'windows older than this are history only: stored and aggregated, not ticked live' }),
  TICK_INTERVAL_MS: env.integer({ default: 100, min: 10, max: 60_000, description: 'least time between two live rounds (ticks and journey updates); a round starts as soon as an insert changed something' }),
  PARTITIONS_CONCURRENTLY: env.integer({ default: 18, min: 1, max: 64, description: "partitions handled at once (3 topics × 6): every partition of a fetch is stored at once, their inserts into the same table and day merged into one" }),
  FETCH_MIN_BYTES: env.integer({ default: 64 * 1024, min: 1, description: 'the broker waits for this much data (or FETCH_MAX_WAIT_MS) before answering a fetch: bigger inserts' }),
  FETCH_MAX_WAIT_MS: env.integer({ default: 100, min: 10, max: 10_000, description: 'longest wait for FETCH_MIN_BYTES: the flush-on-time bound' }),
  FETCH_MAX_BYTES_PER_PARTITION: env.integer({ default: 4 * 1024 * 1024, min: 64 * 1024, description: 'largest fetch per partition: the flush-on-size bound' }),
};
