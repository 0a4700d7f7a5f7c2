import { describe, expect, it } from 'vitest';
import { selectors } from './promql.ts';

const names = (expr: string) => selectors(expr).map((s) => s.name);

describe('selectors (the metrics a PromQL expression reads)', () => {
  it('finds a bare name, a recording rule and a name with matchers, and the labels the matchers use', () => {
    expect(selectors('up')).toEqual([{ name: 'up', labels: [] }]);
    expect(selectors('service:tower_http_requests_5xx:ratio_rate5m > 0.001')).toEqual([{ name: 'service:tower_http_requests_5xx:ratio_rate5m', labels: [] }]);
    expect(selectors('tower_live_connections{service="live", instance=~"$instance"}')).toEqual([{ name: 'tower_live_connections', labels: ['service', 'instance'] }]);
  });

  it('skips functions, aggregations, label lists after by/without/on/group_left, durations, offsets, numbers and strings', () => {
    const expr = `histogram_quantile(0.99, sum by (service, le) (rate(tower_http_request_duration_seconds_bucket{status_class!~"4xx|5xx"}[$__rate_interval] offset 1h30m)))
      / on (service) group_left (route) sum without (instance) (increase(tower_ingest_batches_total[5m:30s]))
      and label_replace(vector(1e3), "dst", "some_name", "src", "(.*)") > bool 0x1F`;
    expect(names(expr)).toEqual(['tower_http_request_duration_seconds_bucket', 'tower_ingest_batches_total']);
  });

  it('skips Grafana variables outside matchers and time() as a function', () => {
    expect(names('time() - tower_aggregator_watermark_timestamp_seconds{instance=~"$instance"} > ${threshold}')).toEqual(['tower_aggregator_watermark_timestamp_seconds']);
  });

  it('reads a {__name__="…"} selector as that metric', () => {
    expect(selectors('{__name__="redis_up", instance="a"}')).toEqual([{ name: 'redis_up', labels: ['instance'] }]);
  });

  it('finds a made-up name wherever it hides', () => {
    expect(names('sum by (topic) (rate(tower_made_up_total[5m])) / ignoring (x) max(made_up_gauge)')).toEqual(['tower_made_up_total', 'made_up_gauge']);
  });

  it('refuses a name called like a function that PromQL does not have, and unbalanced brackets', () => {
    expect(() => selectors('rates(tower_ingest_batches_total[5m])')).toThrow(/rates\( is not a PromQL function/);
    expect(() => selectors('sum(rate(up[5m])')).toThrow(/unbalanced/);
    expect(() => selectors('{instance="a"}')).toThrow(/without a metric name/);
  });
});
