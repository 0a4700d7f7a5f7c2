/** A sample's value in Prometheus text, the series written as the registry writes it (labels in its order), or undefined. */
export function sampleValue(text: string, series: string): number | undefined {
  const value = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

/** A per-table series of the exporter, as its registry writes it. */
export const tableSeries = (metric: string, database: string, table: string) => `${metric}{database="${database}",table="${table}",service="clickhouse-exporter"}`;

export const upSeries = 'tower_clickhouse_up{service="clickhouse-exporter"}';
export const readCountSeries = 'tower_clickhouse_scrape_duration_seconds_count{service="clickhouse-exporter"}';
