import { clickhouseEnv, env, logEnv } from '@tower/shared';

export const liveEnv = {
  PORT: env.port({ default: 8080, description: "HTTP port: the operators' one address" }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...clickhouseEnv,
  ...logEnv,
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog (sites, lanes, zones)' }),
  HISTORY_MAX_BUCKETS: env.integer({ default: 2000, min: 10, max: 100_000, description: 'most buckets one /v1/throughput answer may hold; a longer range needs a coarser step' }),
  JOURNEY_LOOKBACK_DAYS: env.integer({ default: 7, min: 1, max: 90, description: 'how far back /v1/journeys/:plate looks when the request does not say' }),
  CLEARANCE_TARGET_MS: env.integer({ default: 15_000, min: 1000, max: 3_600_000, description: 'clearance p95 target of the smart lanes (the 15 s benchmark of Hữu Nghị)' }),
  QUEUE_SAMPLE_FRESH_MS: env.integer({ default: 15 * 60_000, min: 60_000, max: 24 * 3_600_000, description: "a lane's last queue sample counts as its current queue for this long" }),
  LANE_STATE_LOOKBACK_DAYS: env.integer({ default: 7, min: 1, max: 90, description: "how far back a lane's last open/closed/fault event is looked for" }),
};
