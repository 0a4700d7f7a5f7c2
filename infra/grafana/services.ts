/**
 * One dashboard per tower service: its HTTP routes (every service has them), its Kafka
 * consumers where it has any, the figures of its own job, and its process (CPU, memory,
 * heap, event-loop lag, GC, file descriptors). Each is filtered by the
 * `instance` variable, so one replica of a service can be looked at alone.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertBound, slo } from './limits.ts';
import { dashboard, graph, labelVariable, quantile, quantiles, rate, type Section } from './panels.ts';

/** Every tower service's dashboard uid. */
export const serviceUid = (service: string) => `tower-${service}`;

/** The matchers that pick `service`'s series on the instances the dashboard's variable selects. */
const of = (service: string, extra = '') => `{service="${service}", instance=~"$instance"${extra ? `, ${extra}` : ''}}`;

const httpMetric = 'tower_http_request_duration_seconds';

/** Requests by route and status, the 5xx share against its SLO, and p99 per route (against `latencyLimit` where an SLO exists). */
function httpSection(service: string, latencyLimit?: number): Section {
  const s = of(service);
  return {
    title: 'HTTP',
    panels: [
      graph({ title: 'Requests by route and status', description: 'Requests per second by route template and status class.', unit: 'reqps', stacked: true,
        series: [{ expr: `sum by (route, status_class) (${rate(`${httpMetric}_count`, s)})`, legend: '{{route}} {{status_class}}' }] }),
      graph({ title: '5xx share',
        description: 'Share of requests answered 5xx (SLO: the strictest http.error_rate_percent of loadtests/sre/slos.json). 4xx are refusals of bad or over-budget requests, not errors.',
        unit: 'percentunit', limit: slo('http.error_rate_percent'),
        // `or vector(0)`: a service that never answered 5xx has no such series, and shows 0 rather than no data.
        series: [{ expr: `(sum(${rate(`${httpMetric}_count`, of(service, 'status_class="5xx"'))}) or vector(0)) / sum(${rate(`${httpMetric}_count`, s)})`, legend: '5xx' }] }),
      graph({ title: 'p99 duration by route',
        description: 'p99 time from request to the end of its response, per route template and method.',
        unit: 's', limit: latencyLimit,
        series: [{ expr: quantile(0.99, httpMetric, s, ['route', 'method']), legend: '{{method}} {{route}}' }] }),
    ],
  };
}

/** Lag per group and topic against the load tests' end-of-run bound, events handled, dead letters (a broadcast reader's skipped messages) and failed batches. */
function consumerSection(service: string): Section {
  const s = of(service);
  // The worst instance's lag of each partition, summed: every live gateway reads the whole topic, and in a shared
  // group an instance keeps the last value of a partition it lost in a rebalance (as the recording rule does).
  const lag = graph({ title: 'Consumer lag',
    description: 'Messages behind the high watermark, per consumer group and topic (every partition summed).',
    unit: 'short',
    limit: slo('server.consumer_lag_end'),
    series: [{ expr: `sum by (group, topic) (max by (group, topic, partition) (tower_consumer_lag_messages${s}))`, legend: '{{group}} {{topic}}' }] });
  return {
    title: 'Kafka consumers',
    panels: [
      graph({ title: 'Messages consumed',
        description: 'Messages decoded and handled per second, by topic.',
        unit: 'ops', series: [{ expr: `sum by (topic) (${rate('tower_consumer_events_total', s)})`, legend: '{{topic}}' }] }),
      lag,
      graph({ title: 'Dead-lettered, skipped and failed batches',
        description: 'Messages sent to the dead-letter topic per second (by topic and reason), messages a broadcast reader could not read or deliver and skipped, and batch attempts that failed and were retried.',
        unit: 'ops',
        series: [
          { expr: `sum by (topic, reason) (${rate('tower_consumer_dead_lettered_total', s)})`, legend: 'dead-lettered {{topic}} {{reason}}' },
          { expr: `sum by (topic, reason) (${rate('tower_consumer_skipped_total', s)})`, legend: 'skipped {{topic}} {{reason}}' },
          { expr: `sum by (topic) (${rate('tower_consumer_batch_failures_total', s)})`, legend: 'failed batches {{topic}}' },
        ] }),
    ],
  };
}

/** Each instance's process: CPU, memory, the V8 heap, event-loop lag, GC and file descriptors (prom-client's default metrics). */
function processSection(service: string): Section {
  const s = of(service);
  return {
    title: 'Process',
    panels: [
      graph({ title: 'CPU', description: 'CPU time used per second, user and system, per instance: 100 % is one whole core (the reference machine has two).', unit: 'percentunit',
        series: [{ expr: `sum by (instance) (${rate('process_cpu_seconds_total', s)})`, legend: '{{instance}}' }] }),
      graph({ title: 'Resident memory', description: 'Memory of each instance in RAM (resident set size): growth that never comes back down is a leak.', unit: 'bytes',
        series: [{ expr: `sum by (instance) (process_resident_memory_bytes${s})`, legend: '{{instance}}' }] }),
      graph({ title: 'Heap used',
        description: 'V8 heap in use (JavaScript objects) and allocated, per instance: used climbing after every GC is a leak.',
        unit: 'bytes',
        series: [
          { expr: `sum by (instance) (nodejs_heap_size_used_bytes${s})`, legend: 'used {{instance}}' },
          { expr: `sum by (instance) (nodejs_heap_size_total_bytes${s})`, legend: 'allocated {{instance}}' },
        ] }),
      graph({ title: 'Event-loop lag p99',
        description: 'p99 delay of the event loop between two reads of /metrics, per instance: what every request, message and timer waits on top of its own work (a busy CPU, a long synchronous task, GC).',
        unit: 's',
        series: [{ expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds${s})`, legend: '{{instance}}' }] }),
      graph({ title: 'GC time', description: 'Share of the time spent in garbage collection, per instance and kind (minor, major, incremental).', unit: 'percentunit',
        series: [{ expr: `sum by (instance, kind) (${rate('nodejs_gc_duration_seconds_sum', s)})`, legend: '{{kind}} {{instance}}' }] }),
      graph({ title: 'Open file descriptors',
        description: 'File descriptors open (sockets: clients, Kafka, ClickHouse, Redis; files) against the process\'s limit, at which new connections are refused.',
        unit: 'short',
        series: [
          { expr: `sum by (instance) (process_open_fds${s})`, legend: 'open {{instance}}' },
          { expr: `max by (instance) (process_max_fds${s})`, legend: 'limit {{instance}}' },
        ] }),
    ],
  };
}

/** A service's dashboard: its own sections, then its process's. */
function serviceDashboard(service: string, title: string, description: string, sections: Section[]): Dashboard {
  return dashboard({
    uid: serviceUid(service),
    title: `Tower / ${title}`,
    description,
    tags: ['service', service],
    variables: [labelVariable('instance', `${httpMetric}_count{service="${service}"}`)],
    sections: [...sections, processSection(service)],
  });
}

function ingest(): Dashboard {
  const s = of('ingest');
  return serviceDashboard('ingest', 'Ingest', 'Device batches into Kafka: what is accepted, what is refused and why, and how long Kafka takes to acknowledge.', [
    {
      title: 'Events',
      panels: [
        graph({ title: 'Events accepted by family', description: 'Events acknowledged by Kafka per second, by event family.', unit: 'ops', stacked: true,
          series: [{ expr: `sum by (family) (${rate('tower_ingest_events_accepted_total', s)})`, legend: '{{family}}' }] }),
        graph({ title: 'Events rejected by field', description: 'Events refused per second, by the first field at fault.', unit: 'ops', stacked: true,
          series: [{ expr: `sum by (field) (${rate('tower_ingest_events_rejected_total', s)})`, legend: '{{field}}' }] }),
        graph({ title: 'Batches by status', description: 'Requests to POST /v1/events per second, by HTTP status.', unit: 'reqps', stacked: true,
          series: [{ expr: `sum by (status) (${rate('tower_ingest_batches_total', s)})`, legend: '{{status}}' }] }),
        graph({ title: 'Kafka acknowledgement time',
          description: 'Time from send to Kafka acknowledgement (acks=all); a 2xx waits for it.',
          unit: 's', width: 12,
          series: quantiles('tower_ingest_kafka_ack_seconds', s) }),
        graph({ title: 'Events per batch',
          description: 'Events per request to POST /v1/events.',
          unit: 'short', width: 12, series: quantiles('tower_ingest_batch_events', s) }),
      ],
    },
    httpSection('ingest', slo('ingest.p99_ms')),
  ]);
}

function aggregator(): Dashboard {
  const s = of('aggregator');
  return serviceDashboard('aggregator', 'Aggregator', 'Kafka into ClickHouse and the live ticks: rows written, insert time, the watermark, what was dropped or corrected.', [
    {
      title: 'ClickHouse writes',
      panels: [
        graph({ title: 'Rows written by table', description: 'Raw rows inserted into ClickHouse per second, by table.', unit: 'ops', stacked: true,
          series: [{ expr: `sum by (table) (${rate('tower_aggregator_rows_written_total', s)})`, legend: '{{table}}' }] }),
        graph({ title: 'Insert p99 by table', description: 'p99 ClickHouse insert latency, by table.', unit: 's',
          series: [{ expr: quantile(0.99, 'tower_aggregator_insert_seconds', s, ['table']), legend: '{{table}}' }] }),
        graph({ title: 'Rows per insert (p50)', description: 'Median rows per insert, by table: small inserts make many parts.', unit: 'short',
          series: [{ expr: quantile(0.5, 'tower_aggregator_batch_rows', s, ['table']), legend: '{{table}}' }] }),
      ],
    },
    {
      title: 'Event time and live',
      panels: [
        graph({ title: 'Watermark behind the clock', description: 'Now minus the event-time watermark: how far event time lags the wall clock.', unit: 's',
          series: [{ expr: `time() - max(tower_aggregator_watermark_timestamp_seconds${s})`, legend: 'behind' }] }),
        graph({ title: 'Duplicates, already stored, late',
          description: 'Per second, by topic: re-sent event ids dropped, messages skipped after a restart, events for windows the watermark had passed (stored, window corrected).',
          unit: 'ops',
          series: [
            { expr: `sum by (topic) (${rate('tower_aggregator_duplicate_events_total', s)})`, legend: 'duplicate {{topic}}' },
            { expr: `sum by (topic) (${rate('tower_aggregator_already_stored_total', s)})`, legend: 'already stored {{topic}}' },
            { expr: `sum by (topic) (${rate('tower_aggregator_late_events_total', s)})`, legend: 'late {{topic}}' },
          ] }),
        graph({ title: 'Live publishing',
          description: 'Throughput ticks and journey updates published per second, and live rounds that failed and were retried.',
          unit: 'ops',
          series: [
            { expr: `sum(${rate('tower_aggregator_ticks_published_total', s)})`, legend: 'ticks' },
            { expr: `sum(${rate('tower_aggregator_journey_updates_published_total', s)})`, legend: 'journey updates' },
            { expr: `sum(${rate('tower_aggregator_tick_failures_total', s)})`, legend: 'failed rounds' },
          ] }),
      ],
    },
    consumerSection('aggregator'),
    httpSection('aggregator'),
  ]);
}

function live(): Dashboard {
  const s = of('live');
  return serviceDashboard('live', 'Live gateway', 'The wall\'s WebSockets and the history API: freshness at the clients, snapshots, sockets, what was sent, held back or closed.', [
    {
      title: 'What operators see',
      panels: [
        graph({ title: 'Tick freshness at the clients',
          description: 'Now minus newestIngestedAt of each throughput tick of new data sent (SLO: p95 under live.freshness_p95_ms).',
          unit: 's',
          limit: slo('live.freshness_p95_ms'), series: quantiles('tower_live_tick_freshness_seconds', s) }),
        graph({ title: 'Snapshot p99 by channel',
          description: 'p99 time from a subscribe to its snapshot sent, by channel (SLO: live.snapshot_p99_ms).',
          unit: 's', limit: slo('live.snapshot_p99_ms'),
          series: [{ expr: quantile(0.99, 'tower_live_snapshot_duration_seconds', s, ['channel']), legend: '{{channel}}' }] }),
        graph({ title: 'Snapshot reads by outcome',
          description: 'Snapshot subscriptions per second: read (started a ClickHouse read), shared (joined one under way), abandoned (stopped, nobody waited).',
          unit: 'ops',
          series: [{ expr: `sum by (outcome) (${rate('tower_live_snapshot_reads_total', s)})`, legend: '{{outcome}}' }] }),
      ],
    },
    {
      title: 'Sockets',
      panels: [
        graph({ title: 'Open connections by role',
          description: 'Open WebSocket connections, by the role of their token (display, operator, firm).',
          unit: 'short', stacked: true,
          series: [{ expr: `sum by (role) (tower_live_connections${s})`, legend: '{{role}}' }] }),
        graph({ title: 'Bytes queued for the clients',
          description: 'Bytes written to the sockets that the clients have not taken yet, in all and on the slowest socket: past the soft bound its deltas are conflated, near the hard one it is closed (4008).',
          unit: 'bytes',
          series: [
            { expr: `sum(tower_live_queued_bytes${s})`, legend: 'all sockets' },
            { expr: `max(tower_live_socket_queued_max_bytes${s})`, legend: 'slowest socket' },
          ] }),
        graph({ title: 'Messages sent by type', description: 'Messages sent to clients per second, by type.', unit: 'ops', stacked: true,
          series: [{ expr: `sum by (type) (${rate('tower_live_messages_sent_total', s)})`, legend: '{{type}}' }] }),
        graph({ title: 'Held back and refused',
          description: 'Per second: deltas conflated for slow clients, client messages over the socket\'s rate, upgrades refused (by status).',
          unit: 'ops',
          series: [
            { expr: `sum(${rate('tower_live_deltas_conflated_total', s)})`, legend: 'conflated' },
            { expr: `sum(${rate('tower_live_messages_refused_total', s)})`, legend: 'messages refused' },
            { expr: `sum by (status) (${rate('tower_live_upgrades_rejected_total', s)})`, legend: 'upgrade refused {{status}}' },
          ] }),
        graph({ title: 'Closes by reason',
          description: 'Connections closed per second, by reason (each one close code): the gateway\'s (too-slow, message-rate, unresponsive…) and the client\'s (client-closed, connection-lost).',
          unit: 'ops',
          series: [{ expr: `sum by (reason) (${rate('tower_live_closes_total', s)})`, legend: '{{reason}}' }] }),
        graph({ title: 'Resumes by outcome',
          description: 'Subscriptions resumed from a seq per second: replayed from the buffer, or resync with a fresh snapshot.',
          unit: 'ops',
          series: [{ expr: `sum by (outcome) (${rate('tower_live_resumes_total', s)})`, legend: '{{outcome}}' }] }),
      ],
    },
    consumerSection('live'),
    httpSection('live', slo('history.p99_ms')),
  ]);
}

function slots(): Dashboard {
  const s = of('slots');
  return serviceDashboard('slots', 'Slots', 'Crossing slots: booking latency, the Redis outbox to Kafka, check-ins from truck events.', [
    {
      title: 'Bookings',
      panels: [
        graph({ title: 'Booking p99',
          description: 'p99 of hold, confirm and cancel requests (POST /v1/bookings…) from request to response (SLO booking.p99_ms), and of the slot store\'s part (desk to Redis\'s answer) by operation.',
          unit: 's',
          limit: slo('booking.p99_ms'), series: [
            { expr: quantile(0.99, httpMetric, of('slots', 'route=~"/v1/bookings.*", method="POST"'), ['route']), legend: 'request {{route}}' },
            { expr: quantile(0.99, 'tower_slots_booking_duration_seconds', s, ['operation']), legend: 'slot store {{operation}}' },
          ] }),
        graph({ title: 'Bookings by outcome',
          description: 'Booking operations per second by operation and outcome: held, replayed, confirmed, cancelled, refused (a rule said no), unavailable (Redis or Kafka did not answer: 503).',
          unit: 'ops', stacked: true,
          series: [{ expr: `sum by (operation, outcome) (${rate('tower_slots_bookings_total', s)})`, legend: '{{operation}} {{outcome}}' }] }),
        graph({ title: 'Refusals by rule',
          description: 'Booking operations refused per second, by the rule that said no (window full, firm cap, hold expired…).',
          unit: 'ops', stacked: true,
          series: [{ expr: `sum by (rule) (${rate('tower_slots_bookings_total', of('slots', 'outcome="refused"'))})`, legend: '{{rule}}' }] }),
        graph({ title: 'Check-ins by outcome',
          description: 'Truck events matched to a booking per second: checked-in, late, completed.',
          unit: 'ops', width: 24,
          series: [{ expr: `sum by (outcome) (${rate('tower_slots_check_ins_total', s)})`, legend: '{{outcome}}' }] }),
      ],
    },
    {
      title: 'Outbox',
      panels: [
        graph({ title: 'Outbox oldest entry age',
          description: 'Age of the oldest slot change not yet acknowledged by Kafka (-1: Redis did not answer). Red from TowerSlotsOutboxStuck\'s bound.',
          unit: 's',
          limit: alertBound('TowerSlotsOutboxStuck'), series: [{ expr: `max(tower_slots_outbox_oldest_age_seconds${s})`, legend: 'oldest' }] }),
        graph({ title: 'Outbox entries',
          description: 'Slot changes in the Redis outbox not yet acknowledged by Kafka (-1: Redis did not answer).',
          unit: 'short',
          series: [{ expr: `sum(tower_slots_outbox_entries${s})`, legend: 'entries' }] }),
      ],
    },
    consumerSection('slots'),
    httpSection('slots'),
  ]);
}

function simulator(): Dashboard {
  const s = of('simulator');
  return serviceDashboard('simulator', 'Simulator', 'The demo traffic: what the simulator sent and what waits for the ingest API.', [
    {
      title: 'Traffic',
      panels: [
        graph({ title: 'Events sent', description: 'Events per second the ingest API accepted from the simulator.', unit: 'ops', width: 12,
          series: [{ expr: `sum(${rate('tower_simulator_events_sent_total', s)})`, legend: 'sent' }] }),
        graph({ title: 'Buffered events', description: 'Events waiting for the ingest API: grows when ingest refuses or slows down.', unit: 'short', width: 12,
          series: [{ expr: `sum(tower_simulator_buffered_events${s})`, legend: 'buffered' }] }),
      ],
    },
    httpSection('simulator'),
  ]);
}

export const serviceDashboards = { ingest, aggregator, live, slots, simulator };
