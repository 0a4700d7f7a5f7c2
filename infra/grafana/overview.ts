/**
 * The overview: is the tower healthy, on one screen. The SLOs now, traffic, freshness
 * and lag, errors and latency per service, how fast the error budgets burn, and which
 * targets are down, each panel leading to the dashboard that explains it. Reads the
 * recording rules of infra/prometheus/rules/tower.rules.yml where they exist.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { infrastructureUid } from './infrastructure.ts';
import { slo } from './limits.ts';
import { dashboard, graph, labelVariable, overviewUid, quantiles, stat, upDown } from './panels.ts';
import { serviceUid } from './services.ts';

const link = (service: string, title = service) => [{ title: `Tower / ${title}`, uid: serviceUid(service) }];

/**
 * How fast an error budget burns over `window`: the share of bad events divided by the
 * share the SLO allows (1 spends the budget exactly by the end of the SLO period;
 * 14.4 over an hour spends 2 % of a 30-day budget, the usual page).
 */
/** A regex matching a bucket's `le` as Prometheus 2 (as exposed) and 3 (normalized to a float) store it. */
export function bucketBound(bound: number): string {
  return Number.isInteger(bound) ? `${bound}(\\\\.0)?` : String(bound).replace('.', '\\\\.');
}

function burn(window: string) {
  const errors = slo('http.error_rate_percent');
  const freshness = slo('live.freshness_p95_ms');
  const count = (selector: string) => `sum(rate(tower_http_request_duration_seconds_count${selector}[${window}]))`;
  return [
    // `or vector(0)`: with no 5xx at all there is no 5xx series, and the burn is 0, not no data.
    { expr: `(${count('{status_class="5xx"}')} or vector(0)) / ${count('')} / ${errors}`, legend: `5xx, ${window}` },
    // A p95 SLO lets 5 % of the ticks be older than the bound; the histogram has a bucket at the bound.
    // Prometheus 3 (compose) stores a whole bound as `le="2.0"`, 2.42 (local) as scraped, `le="2"`: match both.
    { expr: `(1 - sum(rate(tower_live_tick_freshness_seconds_bucket{le=~"${bucketBound(freshness)}"}[${window}])) / sum(rate(tower_live_tick_freshness_seconds_count[${window}]))) / 0.05`,
      legend: `ticks over ${freshness} s, ${window}` },
  ];
}

export function overview(): Dashboard {
  const services = '{service=~"$service"}';
  return dashboard({
    uid: overviewUid,
    title: 'Tower / Overview',
    description: 'Is the Móng Cái control tower healthy? The SLOs now, traffic, freshness, lag, errors, error-budget burn and targets.',
    tags: ['overview'],
    variables: [labelVariable('service', 'tower_http_request_duration_seconds_count')],
    sections: [
      {
        title: 'SLOs now (red: broken)',
        panels: [
          stat({ title: 'Ingest p99',
            description: 'p99 of POST /v1/events over 5 minutes (SLO ingest.p99_ms of loadtests/sre/slos.json).',
            unit: 's', limit: slo('ingest.p99_ms'), links: link('ingest', 'Ingest'),
            series: [{ expr: 'max(service_route_method:tower_http_request_duration_seconds:p99_5m{service="ingest", route="/v1/events", method="POST"})' }] }),
          stat({ title: 'Booking p99',
            description: 'Worst p99 of the booking routes (POST /v1/bookings…) over 5 minutes (SLO booking.p99_ms).',
            unit: 's', limit: slo('booking.p99_ms'), links: link('slots', 'Slots'),
            series: [{ expr: 'max(service_route_method:tower_http_request_duration_seconds:p99_5m{service="slots", route=~"/v1/bookings.*", method="POST"})' }] }),
          stat({ title: 'Freshness p95',
            description: 'p95 age of the throughput ticks the wall receives, over 5 minutes (SLO live.freshness_p95_ms).',
            unit: 's', limit: slo('live.freshness_p95_ms'), links: link('live', 'Live gateway'),
            series: [{ expr: ':tower_live_tick_freshness_seconds:p95_5m' }] }),
          stat({ title: 'Snapshot p99',
            description: 'Worst channel\'s p99 from subscribe to snapshot sent (SLO live.snapshot_p99_ms).',
            unit: 's', limit: slo('live.snapshot_p99_ms'), links: link('live', 'Live gateway'),
            series: [{ expr: 'max(channel:tower_live_snapshot_duration_seconds:p99_5m)' }] }),
          stat({ title: 'Worst 5xx share',
            description: 'The highest share of 5xx answers of any service over 5 minutes (SLO http.error_rate_percent).',
            unit: 'percentunit', limit: slo('http.error_rate_percent'),
            series: [{ expr: 'max(service:tower_http_requests_5xx:ratio_rate5m)' }] }),
          stat({ title: 'Worst consumer lag',
            description: 'The most messages any consumer group is behind on a topic (load tests\' bound server.consumer_lag_end).',
            unit: 'short', limit: slo('server.consumer_lag_end'),
            series: [{ expr: 'max(service_group_topic:tower_consumer_lag_messages:sum)' }] }),
        ],
      },
      {
        title: 'Traffic',
        panels: [
          graph({ title: 'Events in by family',
            description: 'Events accepted by ingest (acknowledged by Kafka) per second, by event family. The counter has no site label: by family is the finest split.',
            unit: 'ops', width: 12, stacked: true, links: link('ingest', 'Ingest'),
            series: [{ expr: 'sum by (family) (rate(tower_ingest_events_accepted_total[5m]))', legend: '{{family}}' }] }),
          graph({ title: 'Requests by service', description: 'HTTP requests per second, by service.', unit: 'reqps', width: 12, stacked: true,
            series: [{ expr: `service:tower_http_requests:rate5m${services}`, legend: '{{service}}' }] }),
        ],
      },
      {
        title: 'Freshness and lag',
        panels: [
          graph({ title: 'Tick freshness at the clients',
            description: 'End-to-end age of the throughput ticks delivered to wall clients: p50, p95 (the SLO\'s figure), p99.',
            unit: 's', width: 12,
            limit: slo('live.freshness_p95_ms'), links: link('live', 'Live gateway'), series: quantiles('tower_live_tick_freshness_seconds', '', '5m').map((q) => q.legend === 'p95' ? { ...q, expr: ':tower_live_tick_freshness_seconds:p95_5m' } : q) }),
          graph({ title: 'Consumer lag',
            description: 'Messages behind the high watermark per consumer group and topic (the worst instance of each partition, summed): every group, the live gateways\' broadcast feeds included.',
            unit: 'short', width: 12,
            limit: slo('server.consumer_lag_end'), series: [{ expr: `service_group_topic:tower_consumer_lag_messages:sum${services}`, legend: '{{group}} {{topic}}' }] }),
        ],
      },
      {
        title: 'Errors and latency',
        panels: [
          graph({ title: '5xx share by service',
            description: 'Share of requests answered 5xx per service over 5 minutes (SLO http.error_rate_percent).',
            unit: 'percentunit', limit: slo('http.error_rate_percent'),
            series: [{ expr: `service:tower_http_requests_5xx:ratio_rate5m${services}`, legend: '{{service}}' }] }),
          graph({ title: 'Request p99 by service', description: 'p99 request duration per service, every route together, over 5 minutes.', unit: 's',
            series: [{ expr: `histogram_quantile(0.99, sum by (service, le) (rate(tower_http_request_duration_seconds_bucket${services}[5m])))`, legend: '{{service}}' }] }),
          graph({ title: 'Dead letters',
            description: 'Messages sent to the dead-letter topic per second, by consuming service, topic and reason. Any is a defect to read.',
            unit: 'ops', limit: 0,
            series: [{ expr: `service_topic_reason:tower_consumer_dead_lettered:rate5m${services}`, legend: '{{service}} {{topic}} {{reason}}' }] }),
        ],
      },
      {
        title: 'Error-budget burn',
        panels: [
          graph({ title: 'Burn rate over 1 hour',
            description: 'Bad share over the share the SLO allows: 5xx answers (http.error_rate_percent) and ticks older than the freshness SLO (5 % may be). Above 1 the budget runs out before the period does; 14.4 is the usual page.',
            unit: 'suffix:×', width: 12, limit: 1,
            series: burn('1h') }),
          graph({ title: 'Burn rate over 5 minutes',
            description: 'The same over 5 minutes: a fast burn shows here first, and ends here first.',
            unit: 'suffix:×', width: 12, limit: 1, series: burn('5m') }),
        ],
      },
      {
        title: 'Targets',
        panels: [
          stat({ title: 'Targets up',
            description: 'Every target Prometheus scrapes, by job and instance (down: the last scrape failed).',
            unit: 'short', width: 24, limit: 1, lowIsBad: true, mappings: upDown,
            links: [
              ...['ingest', 'aggregator', 'live', 'slots', 'simulator'].flatMap((s) => link(s)),
              ...['kafka', 'clickhouse', 'redis', 'host'].map((part) => ({ title: `Tower / ${part}`, uid: infrastructureUid(part) })),
            ],
            series: [{ expr: 'up', legend: '{{job}} {{instance}}' }] }),
        ],
      },
    ],
  });
}
