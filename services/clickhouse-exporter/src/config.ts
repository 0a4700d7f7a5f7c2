import { clickhouseEnv, env, logEnv } from '@tower/shared';

export const exporterEnv = {
  PORT: env.port({ default: 8085, description: 'HTTP port for /metrics, health and readiness' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  // CLICKHOUSE_DATABASE names the database whose tables get parts, rows and bytes.
  ...clickhouseEnv,
  ...logEnv,
  CLICKHOUSE_READ_TIMEOUT_MS: env.integer({
    default: 5000,
    min: 100,
    max: 60_000,
    description: "longest any statement of a scrape's read of ClickHouse may take before it counts as no answer (tower_clickhouse_up 0); a scrape that sends its own timeout (Prometheus's X-Prometheus-Scrape-Timeout-Seconds) ends the read sooner, a tenth (at least 0.5 s) under it",
  }),
};
