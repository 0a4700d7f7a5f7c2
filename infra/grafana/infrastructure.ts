/**
 * One dashboard per infrastructure part: Kafka (the JMX exporter agent of each broker,
 * infra/kafka/jmx-exporter.yaml), ClickHouse (services/clickhouse-exporter: current
 * ClickHouse's own names, and the tower's tables), Redis (redis_exporter) and the host
 * (node_exporter). Each is filtered by the `instance` variable.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alertBound } from './limits.ts';
import { dashboard, graph, labelVariable, quantiles, rate, stat, upDown, type Section } from './panels.ts';

export const infrastructureUid = (part: string) => `tower-${part}`;

const instance = '{instance=~"$instance"}';
/** `instance` plus more matchers. */
const and = (matchers: string) => `{instance=~"$instance", ${matchers}}`;

function infrastructureDashboard(part: string, title: string, description: string, instanceOf: string, sections: Section[]): Dashboard {
  return dashboard({
    uid: infrastructureUid(part),
    title: `Tower / ${title}`,
    description,
    tags: ['infrastructure', part],
    variables: [labelVariable('instance', instanceOf)],
    sections,
  });
}

function kafka(): Dashboard {
  return infrastructureDashboard('kafka', 'Kafka', 'The brokers: replication and the controller, traffic per topic, request time and saturation, disk, JVM.', 'kafka_server_partitions', [
    {
      title: 'Replication and controller (red: acks=all writes at risk or refused)',
      panels: [
        stat({ title: 'Active controller',
          description: 'Nodes that are the active controller: exactly one in a healthy cluster.',
          unit: 'short', limit: 1, lowIsBad: true,
          series: [{ expr: `sum(kafka_controller_active_controller${instance})` }] }),
        stat({ title: 'Offline partitions', description: 'Partitions without a leader: reads and writes fail.', unit: 'short', limit: 1,
          series: [{ expr: `max(kafka_controller_offline_partitions${instance})` }] }),
        stat({ title: 'Under min ISR',
          description: 'Partitions with fewer in-sync replicas than min.insync.replicas: ingest answers 503.',
          unit: 'short', limit: 1,
          series: [{ expr: `sum(kafka_server_under_min_isr_partitions${instance})` }] }),
        stat({ title: 'Under-replicated', description: 'Partitions with fewer in-sync replicas than replicas.', unit: 'short', limit: 1,
          series: [{ expr: `sum(kafka_server_under_replicated_partitions${instance})` }] }),
        stat({ title: 'Fenced brokers', description: 'Brokers registered but fenced (not serving).', unit: 'short', limit: 1,
          series: [{ expr: `max(kafka_controller_fenced_brokers${instance})` }] }),
        stat({ title: 'Brokers serving',
          description: 'Brokers registered and unfenced, as the active controller sees them.',
          unit: 'short', limit: 1, lowIsBad: true,
          series: [{ expr: `max(kafka_controller_active_brokers${instance})` }] }),
        graph({ title: 'ISR shrinks and expands',
          description: 'Times a partition\'s in-sync replica set shrank or grew back, per second: a broker falling behind or flapping.',
          unit: 'ops', width: 12,
          series: [
            { expr: `sum by (instance) (${rate('kafka_server_isr_shrinks_total', instance)})`, legend: 'shrinks {{instance}}' },
            { expr: `sum by (instance) (${rate('kafka_server_isr_expands_total', instance)})`, legend: 'expands {{instance}}' },
          ] }),
        graph({ title: 'Partitions and leaders',
          description: 'Partition replicas on each broker, how many it leads, and how many are offline (a failed log directory) or at min ISR (one more replica lost refuses writes).',
          unit: 'short', width: 12,
          series: [
            { expr: `sum by (instance) (kafka_server_partitions${instance})`, legend: 'replicas {{instance}}' },
            { expr: `sum by (instance) (kafka_server_leader_partitions${instance})`, legend: 'leads {{instance}}' },
            { expr: `sum by (instance) (kafka_server_offline_replicas${instance})`, legend: 'offline {{instance}}' },
            { expr: `sum by (instance) (kafka_server_at_min_isr_partitions${instance})`, legend: 'at min ISR {{instance}}' },
          ] }),
      ],
    },
    {
      title: 'Traffic',
      panels: [
        graph({ title: 'Messages in by topic', description: 'Messages appended per second, by topic.', unit: 'ops', stacked: true,
          series: [{ expr: `sum by (topic) (${rate('kafka_server_messages_in_total', and('topic!=""'))})`, legend: '{{topic}}' }] }),
        graph({ title: 'Bytes in and out by topic',
          description: 'Client bytes produced and fetched per second, by topic (replication not counted).',
          unit: 'Bps',
          series: [
            { expr: `sum by (topic) (${rate('kafka_server_bytes_in_total', and('topic!=""'))})`, legend: 'in {{topic}}' },
            { expr: `sum by (topic) (${rate('kafka_server_bytes_out_total', and('topic!=""'))})`, legend: 'out {{topic}}' },
          ] }),
        graph({ title: 'Requests', description: 'Produce and Fetch requests per second, by broker.', unit: 'reqps',
          series: [{ expr: `sum by (request, instance) (${rate('kafka_network_requests_total', instance)})`, legend: '{{request}} {{instance}}' }] }),
      ],
    },
    {
      title: 'Time and saturation',
      panels: [
        graph({ title: 'Request total time p99',
          description: 'p99 time from receiving a request to sending its response, over the broker\'s recent requests. Produce includes waiting for the replicas (acks=all).',
          unit: 's',
          series: [{ expr: `max by (request, instance) (kafka_network_request_total_time_seconds${and('quantile="0.99"')})`, legend: '{{request}} {{instance}}' }] }),
        graph({ title: 'Idle threads',
          description: 'Share of the time the request handler and network threads were idle: near 0 the broker is saturated.',
          unit: 'percentunit',
          series: [
            { expr: `kafka_server_request_handler_idle_ratio${instance}`, legend: 'request handlers {{instance}}' },
            { expr: `kafka_network_processor_idle_ratio${instance}`, legend: 'network {{instance}}' },
          ] }),
        graph({ title: 'Log flush time p99', description: 'p99 time to flush a log to disk, over the broker\'s recent flushes.', unit: 's',
          series: [{ expr: `max by (instance) (kafka_log_flush_time_seconds${and('quantile="0.99"')})`, legend: '{{instance}}' }] }),
      ],
    },
    {
      title: 'Disk and JVM',
      panels: [
        graph({ title: 'Log size by topic', description: 'Bytes on disk of each topic\'s partitions, on every broker together.', unit: 'bytes', stacked: true,
          series: [{ expr: `sum by (topic) (kafka_log_size_bytes${instance})`, legend: '{{topic}}' }] }),
        graph({ title: 'Heap used of max',
          description: 'Share of each broker\'s JVM heap in use (red from TowerKafkaHeapHigh\'s bound: long GC pauses, then out of memory).',
          unit: 'percentunit',
          limit: alertBound('TowerKafkaHeapHigh'), series: [{ expr: `instance:kafka_jvm_heap_used:ratio${instance}`, legend: '{{instance}}' }] }),
        graph({ title: 'GC time', description: 'Share of the time spent in garbage collection, per broker and collector.', unit: 'percentunit',
          series: [{ expr: `sum by (instance, gc) (${rate('jvm_gc_collection_seconds_sum', instance)})`, legend: '{{gc}} {{instance}}' }] }),
      ],
    },
  ]);
}

function clickhouse(): Dashboard {
  const tables = and('database="tower"');
  return infrastructureDashboard('clickhouse', 'ClickHouse', 'ClickHouse through the tower\'s collector: is it answering, queries and inserts, the tables\' parts, rows and bytes, merges.', 'tower_clickhouse_up', [
    {
      title: 'Answering',
      panels: [
        stat({ title: 'ClickHouse answers',
          description: 'Whether the collector\'s last read of ClickHouse answered.',
          unit: 'short', limit: 1, lowIsBad: true, mappings: upDown,
          series: [{ expr: `min(tower_clickhouse_up${instance})` }] }),
        stat({ title: 'Uptime', description: 'Time since the ClickHouse server started: a small value is a restart.', unit: 's',
          series: [{ expr: `min(ClickHouseAsyncMetrics_Uptime${instance})` }] }),
        graph({ title: 'Running now',
          description: 'Queries and merges executing now, open HTTP connections, inserts being slowed down (too many parts).',
          unit: 'short', width: 8,
          series: [
            { expr: `sum(ClickHouseMetrics_Query${instance})`, legend: 'queries' },
            { expr: `sum(ClickHouseMetrics_Merge${instance})`, legend: 'merges' },
            { expr: `sum(ClickHouseMetrics_HTTPConnection${instance})`, legend: 'HTTP connections' },
            { expr: `sum(ClickHouseMetrics_DelayedInserts${instance})`, legend: 'delayed inserts' },
          ] }),
        graph({ title: 'Queries and failures',
          description: 'Queries started per second, and those that failed (current ClickHouse only: 18.16 has no such event).',
          unit: 'ops', width: 8,
          series: [
            { expr: `sum(${rate('ClickHouseProfileEvents_Query', instance)})`, legend: 'queries' },
            { expr: `sum(${rate('ClickHouseProfileEvents_FailedQuery', instance)})`, legend: 'failed' },
          ] }),
      ],
    },
    {
      title: 'Inserts and tables',
      panels: [
        graph({ title: 'Rows inserted', description: 'Rows inserted per second into every table.', unit: 'ops',
          series: [{ expr: `sum(${rate('ClickHouseProfileEvents_InsertedRows', instance)})`, legend: 'rows' }] }),
        graph({ title: 'Inserts delayed and refused',
          description: 'Inserts slowed down, and refused, per second because a partition had too many active parts (absent until the first).',
          unit: 'ops',
          series: [
            { expr: `sum(${rate('ClickHouseProfileEvents_DelayedInserts', instance)})`, legend: 'delayed' },
            { expr: `sum(${rate('ClickHouseProfileEvents_RejectedInserts', instance)})`, legend: 'refused' },
          ] }),
        graph({ title: 'Parts of the fullest partition',
          description: 'Active parts of each tower table\'s fullest partition, and of any table on the server: ClickHouse delays, then refuses, inserts as this grows (too many parts).',
          unit: 'short',
          series: [
            { expr: `max by (table) (tower_clickhouse_max_part_count_for_partition${tables})`, legend: '{{table}}' },
            { expr: `max(ClickHouseAsyncMetrics_MaxPartCountForPartition${instance})`, legend: 'any table' },
          ] }),
        graph({ title: 'Merges and mutations by table',
          description: 'Merges under way and mutations not done yet, by table of the tower database.',
          unit: 'short',
          series: [
            { expr: `sum by (table) (tower_clickhouse_merges_running${tables})`, legend: 'merging {{table}}' },
            { expr: `sum by (table) (tower_clickhouse_mutations_pending${tables})`, legend: 'mutations {{table}}' },
          ] }),
        graph({ title: 'Rows by table', description: 'Rows in the active parts of each table of the tower database.', unit: 'short',
          series: [{ expr: `sum by (table) (tower_clickhouse_table_rows${tables})`, legend: '{{table}}' }] }),
        graph({ title: 'Bytes on disk by table',
          description: 'Compressed bytes of the active parts of each table of the tower database.',
          unit: 'bytes', stacked: true,
          series: [{ expr: `sum by (table) (tower_clickhouse_table_bytes${tables})`, legend: '{{table}}' }] }),
      ],
    },
    {
      title: 'Memory and the collector',
      panels: [
        graph({ title: 'Memory', description: 'Memory the server has allocated.', unit: 'bytes', width: 12,
          series: [{ expr: `sum(ClickHouseMetrics_MemoryTracking${instance})`, legend: 'allocated' }] }),
        graph({ title: 'Collector read time', description: 'Time the collector takes to read ClickHouse for a scrape (answered or not).', unit: 's', width: 12,
          series: quantiles('tower_clickhouse_scrape_duration_seconds', instance) }),
      ],
    },
  ]);
}

function redis(): Dashboard {
  return infrastructureDashboard('redis', 'Redis', 'Redis, which holds the slots\' live state, the rate limits and the outbox: memory against maxmemory, clients, commands, persistence.', 'redis_up', [
    {
      title: 'Health',
      panels: [
        stat({ title: 'Redis up',
          description: 'Whether the exporter reached Redis at its last scrape.',
          unit: 'short', limit: 1, lowIsBad: true, mappings: upDown,
          series: [{ expr: `min(redis_up${instance})` }] }),
        stat({ title: 'Memory used of max',
          description: 'Memory used over maxmemory (no value where maxmemory is unset, as locally): past it writes fail (noeviction). Red from TowerRedisMemoryHigh\'s bound.',
          unit: 'percentunit',
          limit: alertBound('TowerRedisMemoryHigh'), series: [{ expr: `max(instance:redis_memory_used:ratio${instance})` }] }),
        stat({ title: 'Last AOF write',
          description: 'Whether the last append-only file write succeeded (1) or failed (0: Redis refuses writes).',
          unit: 'short', limit: 1, lowIsBad: true,
          series: [{ expr: `min(redis_aof_last_write_status${instance})` }] }),
        graph({ title: 'Clients',
          description: 'Connected clients against maxclients, clients blocked in a blocking command (BLPOP, XREAD BLOCK…), and connections refused per second for having maxclients open.',
          unit: 'short', width: 12,
          series: [
            { expr: `sum(redis_connected_clients${instance})`, legend: 'connected' },
            { expr: `sum(redis_blocked_clients${instance})`, legend: 'blocked' },
            { expr: `max(redis_config_maxclients${instance})`, legend: 'maxclients' },
            { expr: `sum(${rate('redis_rejected_connections_total', instance)})`, legend: 'refused/s' },
          ] }),
      ],
    },
    {
      title: 'Work and memory',
      panels: [
        graph({ title: 'Commands', description: 'Commands processed per second.', unit: 'ops',
          series: [{ expr: `sum(${rate('redis_commands_processed_total', instance)})`, legend: 'commands' }] }),
        graph({ title: 'Keys by database',
          description: 'Keys in each database: the tower writes db0 (the slots\' state and outbox, ingest\'s event-id ledger, the alert leader\'s lease).',
          unit: 'short',
          series: [{ expr: `sum by (db) (redis_db_keys${instance})`, legend: '{{db}}' }] }),
        graph({ title: 'Keys expired and evicted',
          description: 'Keys removed per second: expired (reaching their time: a window\'s bookings once it is past, ingest\'s event-id ledger, the alert leader\'s lease) and evicted for memory (none expected: with noeviction Redis refuses writes at maxmemory instead).',
          unit: 'ops',
          series: [
            { expr: `sum(${rate('redis_expired_keys_total', instance)})`, legend: 'expired' },
            { expr: `sum(${rate('redis_evicted_keys_total', instance)})`, legend: 'evicted' },
          ] }),
        graph({ title: 'Memory', description: 'Memory used, and maxmemory where set.', unit: 'bytes', width: 12,
          series: [
            { expr: `sum(redis_memory_used_bytes${instance})`, legend: 'used' },
            { expr: `sum(redis_memory_max_bytes${instance})`, legend: 'max' },
          ] }),
        graph({ title: 'Persistence',
          description: 'Whether the append-only file is on and its last write succeeded, and whether the last snapshot (RDB) succeeded: 1 yes, 0 no.',
          unit: 'short', width: 12,
          series: [
            { expr: `min(redis_aof_enabled${instance})`, legend: 'AOF on' },
            { expr: `min(redis_aof_last_write_status${instance})`, legend: 'last AOF write ok' },
            { expr: `min(redis_rdb_last_bgsave_status${instance})`, legend: 'last snapshot ok' },
          ] }),
      ],
    },
  ]);
}

function host(): Dashboard {
  return infrastructureDashboard('host', 'Host', 'The machine the tower runs on: CPU, load, memory and disk space against the alerts\' bounds, pressure stalls, disk and network.', 'node_memory_MemTotal_bytes', [
    {
      title: 'Capacity (red: the alerts\' bounds)',
      panels: [
        graph({ title: 'CPU busy', description: 'Share of CPU time not idle, by mode, over every core.', unit: 'percentunit', stacked: true,
          series: [{ expr: `sum by (mode) (${rate('node_cpu_seconds_total', and('mode!="idle"'))}) / scalar(count(count by (cpu) (node_cpu_seconds_total${instance})))`, legend: '{{mode}}' }] }),
        graph({ title: 'Memory available',
          description: 'Share of memory still available (TowerHostMemoryLow below its bound).',
          unit: 'percentunit', lowIsBad: true, limit: alertBound('TowerHostMemoryLow'),
          series: [{ expr: `instance:node_memory_available:ratio${instance}`, legend: '{{instance}}' }] }),
        graph({ title: 'Disk space available',
          description: 'Share of each real filesystem still available (TowerHostDiskLow below its bound, TowerHostDiskFull further down).',
          unit: 'percentunit', lowIsBad: true,
          limit: alertBound('TowerHostDiskLow'), series: [{ expr: `instance_mountpoint:node_filesystem_avail:ratio${instance}`, legend: '{{mountpoint}}' }] }),
        graph({ title: 'Load and cores',
          description: 'Run-queue length averaged over 1 and 15 minutes, against the number of cores: 1 minute over 15 is a rise, under it a fall.',
          unit: 'short', width: 12,
          series: [
            { expr: `node_load1${instance}`, legend: 'load 1 min {{instance}}' },
            { expr: `node_load15${instance}`, legend: 'load 15 min {{instance}}' },
            { expr: `count by (instance) (count by (instance, cpu) (node_cpu_seconds_total${instance}))`, legend: 'cores {{instance}}' },
          ] }),
        graph({ title: 'Memory', description: 'Memory available and total.', unit: 'bytes', width: 12,
          series: [
            { expr: `node_memory_MemAvailable_bytes${instance}`, legend: 'available {{instance}}' },
            { expr: `node_memory_MemTotal_bytes${instance}`, legend: 'total {{instance}}' },
          ] }),
      ],
    },
    {
      title: 'Stalls, disk and network',
      panels: [
        graph({ title: 'Pressure stalls',
          description: 'Share of the time some task waited for a CPU, for memory, for the disks (pressure stall information): what the services feel of a busy host.',
          unit: 'percentunit', width: 12,
          series: [
            { expr: `sum by (instance) (${rate('node_pressure_cpu_waiting_seconds_total', instance)})`, legend: 'CPU {{instance}}' },
            { expr: `sum by (instance) (${rate('node_pressure_memory_waiting_seconds_total', instance)})`, legend: 'memory {{instance}}' },
            { expr: `sum by (instance) (${rate('node_pressure_io_waiting_seconds_total', instance)})`, legend: 'disk {{instance}}' },
          ] }),
        graph({ title: 'Disk busy', description: 'Share of the time each device was busy with I/O.', unit: 'percentunit', width: 12,
          series: [{ expr: `sum by (device) (${rate('node_disk_io_time_seconds_total', instance)})`, legend: '{{device}}' }] }),
        graph({ title: 'Disk throughput',
          description: 'Bytes read and written per second, by device: Kafka\'s logs, ClickHouse\'s merges and Redis\'s append-only file share them.',
          unit: 'Bps', width: 12,
          series: [
            { expr: `sum by (device) (${rate('node_disk_read_bytes_total', instance)})`, legend: 'read {{device}}' },
            { expr: `sum by (device) (${rate('node_disk_written_bytes_total', instance)})`, legend: 'written {{device}}' },
          ] }),
        graph({ title: 'Network',
          description: 'Bytes received and sent per second, by interface (loopback included: the tower talks to itself on it).',
          unit: 'Bps', width: 12,
          series: [
            { expr: `sum by (device) (${rate('node_network_receive_bytes_total', instance)})`, legend: 'in {{device}}' },
            { expr: `sum by (device) (${rate('node_network_transmit_bytes_total', instance)})`, legend: 'out {{device}}' },
          ] }),
      ],
    },
  ]);
}

export const infrastructureDashboards = { kafka, clickhouse, redis, host };
