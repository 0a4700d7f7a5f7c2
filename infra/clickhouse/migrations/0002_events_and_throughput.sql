-- Raw events, one table per family, and the throughput aggregates the wall and the
-- history API read. Rows carry their Kafka topic, partition and offset: the aggregator
-- resumes after the highest stored offset of each partition, so a crash between the
-- insert and the offset commit never stores (or counts) an event twice. Raw tables are
-- partitioned by UTC day of observation and the aggregator never lets one insert span
-- two days, so every insert is one part: all or nothing.
-- clearance_ms (plate read to gate-out, on gate-out rows), turnaround_ms (joined queue
-- to border crossed, on border-crossed rows) and open_ms (time the lane was open since
-- its previous event, on lane rows) are derived by the aggregator's journey and lane
-- trackers, which are rebuilt from these rows after a restart.
-- Every materialized view must produce every aggregate column (a family without a
-- measure produces an empty state), so edit them together.
CREATE TABLE IF NOT EXISTS truck_events
(
    event_id String,
    type String,
    site String,
    lane String,
    lane_kind String,
    direction String,
    observed_at DateTime('UTC'),
    observed_ms UInt64,
    ingested_ms UInt64,
    source String,
    plate String,
    plate_country String,
    cargo_class String,
    trailer String,
    containers Array(String),
    gross_kg UInt32,
    scan_result String,
    hold_reason String,
    declaration_id String,
    confidence Float32,
    clearance_ms UInt64,
    turnaround_ms UInt64,
    schema_version UInt16,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(observed_at)
ORDER BY (plate, observed_ms);

CREATE TABLE IF NOT EXISTS container_events
(
    event_id String,
    type String,
    site String,
    lane String,
    lane_kind String,
    direction String,
    observed_at DateTime('UTC'),
    observed_ms UInt64,
    ingested_ms UInt64,
    source String,
    container_number String,
    size_ft UInt8,
    teu Float64,
    fullness String,
    reefer UInt8,
    vessel String,
    berth String,
    crane String,
    from_block String,
    to_block String,
    customs_status String,
    schema_version UInt16,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(observed_at)
ORDER BY (site, observed_ms, container_number);

CREATE TABLE IF NOT EXISTS lane_events
(
    event_id String,
    type String,
    site String,
    lane String,
    lane_kind String,
    direction String,
    observed_at DateTime('UTC'),
    observed_ms UInt64,
    ingested_ms UInt64,
    source String,
    queue_length UInt32,
    has_queue_length UInt8,
    fault_code String,
    detail String,
    igv_id String,
    igv_state String,
    progress Float32,
    battery_pct Float32,
    open_ms UInt64,
    schema_version UInt16,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(observed_at)
ORDER BY (site, lane, observed_ms);

CREATE TABLE IF NOT EXISTS throughput_1m
(
    window_start DateTime('UTC'),
    site String,
    lane String,
    direction String,
    lane_kind String,
    events AggregateFunction(sum, UInt64),
    trucks_crossed AggregateFunction(sum, UInt64),
    containers_moved AggregateFunction(sum, UInt64),
    teu_moved AggregateFunction(sum, Float64),
    gross_kg AggregateFunction(sum, UInt64),
    customs_holds AggregateFunction(sum, UInt64),
    queue_max AggregateFunction(maxIf, UInt32, UInt8),
    queue_avg AggregateFunction(avgIf, UInt32, UInt8),
    lane_open_ms AggregateFunction(sum, UInt64),
    clearance_ms AggregateFunction(quantilesExactIf(0.5, 0.95), UInt64, UInt8),
    turnaround_ms AggregateFunction(quantilesExactIf(0.5, 0.95), UInt64, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, window_start, lane, direction, lane_kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1m_from_truck_events TO throughput_1m AS
SELECT
    toStartOfMinute(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(type = 'truck.border-crossed')) AS trucks_crossed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(gross_kg)) AS gross_kg,
    sumState(toUInt64(type = 'truck.customs-held')) AS customs_holds,
    maxIfState(toUInt32(0), toUInt8(0)) AS queue_max,
    avgIfState(toUInt32(0), toUInt8(0)) AS queue_avg,
    sumState(toUInt64(0)) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(clearance_ms, clearance_ms > 0) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(turnaround_ms, turnaround_ms > 0) AS turnaround_ms
FROM truck_events
GROUP BY window_start, site, lane, direction, lane_kind;

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1m_from_container_events TO throughput_1m AS
SELECT
    toStartOfMinute(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(0)) AS trucks_crossed,
    sumState(toUInt64(type IN ('container.discharged', 'container.loaded', 'container.gate-in', 'container.gate-out'))) AS containers_moved,
    sumState(if(type IN ('container.discharged', 'container.loaded', 'container.gate-in', 'container.gate-out'), teu, 0.)) AS teu_moved,
    sumState(toUInt64(0)) AS gross_kg,
    sumState(toUInt64(type = 'container.customs-status' AND customs_status = 'hold')) AS customs_holds,
    maxIfState(toUInt32(0), toUInt8(0)) AS queue_max,
    avgIfState(toUInt32(0), toUInt8(0)) AS queue_avg,
    sumState(toUInt64(0)) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS turnaround_ms
FROM container_events
GROUP BY window_start, site, lane, direction, lane_kind;

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1m_from_lane_events TO throughput_1m AS
SELECT
    toStartOfMinute(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(0)) AS trucks_crossed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(0)) AS gross_kg,
    sumState(toUInt64(0)) AS customs_holds,
    maxIfState(queue_length, has_queue_length) AS queue_max,
    avgIfState(queue_length, has_queue_length) AS queue_avg,
    sumState(open_ms) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS turnaround_ms
FROM lane_events
GROUP BY window_start, site, lane, direction, lane_kind;

CREATE TABLE IF NOT EXISTS throughput_1h
(
    window_start DateTime('UTC'),
    site String,
    lane String,
    direction String,
    lane_kind String,
    events AggregateFunction(sum, UInt64),
    trucks_crossed AggregateFunction(sum, UInt64),
    containers_moved AggregateFunction(sum, UInt64),
    teu_moved AggregateFunction(sum, Float64),
    gross_kg AggregateFunction(sum, UInt64),
    customs_holds AggregateFunction(sum, UInt64),
    queue_max AggregateFunction(maxIf, UInt32, UInt8),
    queue_avg AggregateFunction(avgIf, UInt32, UInt8),
    lane_open_ms AggregateFunction(sum, UInt64),
    clearance_ms AggregateFunction(quantilesExactIf(0.5, 0.95), UInt64, UInt8),
    turnaround_ms AggregateFunction(quantilesExactIf(0.5, 0.95), UInt64, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, window_start, lane, direction, lane_kind);

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1h_from_truck_events TO throughput_1h AS
SELECT
    toStartOfHour(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(type = 'truck.border-crossed')) AS trucks_crossed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(gross_kg)) AS gross_kg,
    sumState(toUInt64(type = 'truck.customs-held')) AS customs_holds,
    maxIfState(toUInt32(0), toUInt8(0)) AS queue_max,
    avgIfState(toUInt32(0), toUInt8(0)) AS queue_avg,
    sumState(toUInt64(0)) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(clearance_ms, clearance_ms > 0) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(turnaround_ms, turnaround_ms > 0) AS turnaround_ms
FROM truck_events
GROUP BY window_start, site, lane, direction, lane_kind;

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1h_from_container_events TO throughput_1h AS
SELECT
    toStartOfHour(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(0)) AS trucks_crossed,
    sumState(toUInt64(type IN ('container.discharged', 'container.loaded', 'container.gate-in', 'container.gate-out'))) AS containers_moved,
    sumState(if(type IN ('container.discharged', 'container.loaded', 'container.gate-in', 'container.gate-out'), teu, 0.)) AS teu_moved,
    sumState(toUInt64(0)) AS gross_kg,
    sumState(toUInt64(type = 'container.customs-status' AND customs_status = 'hold')) AS customs_holds,
    maxIfState(toUInt32(0), toUInt8(0)) AS queue_max,
    avgIfState(toUInt32(0), toUInt8(0)) AS queue_avg,
    sumState(toUInt64(0)) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS turnaround_ms
FROM container_events
GROUP BY window_start, site, lane, direction, lane_kind;

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1h_from_lane_events TO throughput_1h AS
SELECT
    toStartOfHour(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(0)) AS trucks_crossed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(0)) AS gross_kg,
    sumState(toUInt64(0)) AS customs_holds,
    maxIfState(queue_length, has_queue_length) AS queue_max,
    avgIfState(queue_length, has_queue_length) AS queue_avg,
    sumState(open_ms) AS lane_open_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS clearance_ms,
    quantilesExactIfState(0.5, 0.95)(toUInt64(0), toUInt8(0)) AS turnaround_ms
FROM lane_events
GROUP BY window_start, site, lane, direction, lane_kind;
