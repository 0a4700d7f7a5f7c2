import { clickhouseEnv, env, kafkaEnv, logEnv } from '@tower/shared';

export const aggregatorEnv = {
  PORT: env.port({ default: 8084, description: 'HTTP port for health, readiness and metrics' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog (lane kinds and directions)' }),
  TOPIC_TRUCKS: env.string({ default: 'tower.trucks.v1', description: 'truck events topic' }),
  TOPIC_CONTAINERS: env.string({ default: 'tower.containers.v1', description: 'container events topic' }),
  TOPIC_LANES: env.string({ default: 'tower.lanes.v1', description: 'lane events topic' }),
  TOPIC_DEADLETTER: env.string({ default: 'tower.deadletter.v1', description: 'dead-letter topic' }),
  TOPIC_THROUGHPUT: env.string({ default: 'tower.throughput.v1', description: 'live throughput ticks topic' }),
  CONSUMER_SESSION_TIMEOUT_MS: env.integer({ default: 30_000, min: 6000, max: 300_000, description: 'how long a silent (crashed) member keeps its partitions before the group moves them' }),
  CONSUMER_GROUP: env.string({ default: 'tower-aggregator', description: 'Kafka consumer group of the aggregators' }),
  DEDUP_WINDOW_EVENTS: env.integer({ default: 50_000, min: 1000, max: 5_000_000, description: 'event ids remembered per partition to drop re-sent events' }),
  ALLOWED_LATENESS_MS: env.integer({ default: 120_000, min: 0, max: 3_600_000, description: 'how far behind the newest observation a window stays open' }),
  TICK_INTERVAL_MS: env.integer({ default: 1000, min: 100, max: 60_000, description: 'how often changed windows are published as ticks' }),
  FETCH_MIN_BYTES: env.integer({ default: 64 * 1024, min: 1, description: 'the broker waits for this much data (or FETCH_MAX_WAIT_MS) before answering a fetch: bigger inserts' }),
  FETCH_MAX_WAIT_MS: env.integer({ default: 500, min: 10, max: 10_000, description: 'longest wait for FETCH_MIN_BYTES: the flush-on-time bound' }),
  FETCH_MAX_BYTES_PER_PARTITION: env.integer({ default: 4 * 1024 * 1024, min: 64 * 1024, description: 'largest fetch per partition: the flush-on-size bound' }),
};
