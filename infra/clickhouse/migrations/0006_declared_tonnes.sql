-- Tonnes from declared weights (issue 14). A truck's tonnes are counted once per
-- crossing, on its border-crossed row: the weighbridge's gross weight when it was
-- weighed, else the gross weight on its declaration (truck.gate-in, truck schema v2),
-- never both; a truck with neither adds 0 kg and is counted in trucks_unweighed. The
-- aggregator decides it from the truck's journey (shared/src/domain/journeys.ts) and
-- stores it on the row, like clearance_ms, so it is rebuilt the same after a crash.
-- truck_events gains the declared weight (on gate-in rows) and the weight counted for
-- the crossing (crossed_kg, crossed_weight: weighbridge | declared | none, on
-- border-crossed rows); gross_kg stays the weighbridge's weight on weighed rows. The
-- aggregates' gross_kg now sums crossed_kg, and every materialized view is made again
-- with the new trucks_unweighed column (ClickHouse 18.16 refuses an insert through a
-- view that lacks a column of its target).
-- Run with the aggregator stopped (npm start does): between the DROP and the CREATE of
-- the views an insert would not reach the aggregates. A truck weighed before the
-- upgrade and crossing after it is counted twice (once on each row).
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner skips an
-- `ALTER TABLE t ADD COLUMN c` whose column exists, so the file is safe to re-run.
ALTER TABLE truck_events ADD COLUMN declared_gross_kg UInt32 AFTER gross_kg;
ALTER TABLE truck_events ADD COLUMN crossed_kg UInt32 AFTER turnaround_ms;
ALTER TABLE truck_events ADD COLUMN crossed_weight String AFTER crossed_kg;

DROP TABLE IF EXISTS throughput_1m_from_truck_events;
DROP TABLE IF EXISTS throughput_1m_from_container_events;
DROP TABLE IF EXISTS throughput_1m_from_lane_events;
DROP TABLE IF EXISTS throughput_1h_from_truck_events;
DROP TABLE IF EXISTS throughput_1h_from_container_events;
DROP TABLE IF EXISTS throughput_1h_from_lane_events;

ALTER TABLE throughput_1m ADD COLUMN trucks_unweighed AggregateFunction(sum, UInt64) AFTER trucks_crossed;
ALTER TABLE throughput_1h ADD COLUMN trucks_unweighed AggregateFunction(sum, UInt64) AFTER trucks_crossed;

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1m_from_truck_events TO throughput_1m AS
SELECT
    toStartOfMinute(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(type = 'truck.border-crossed')) AS trucks_crossed,
    sumState(toUInt64(crossed_weight = 'none')) AS trucks_unweighed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(crossed_kg)) AS gross_kg,
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
    sumState(toUInt64(0)) AS trucks_unweighed,
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
    sumState(toUInt64(0)) AS trucks_unweighed,
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

CREATE MATERIALIZED VIEW IF NOT EXISTS throughput_1h_from_truck_events TO throughput_1h AS
SELECT
    toStartOfHour(observed_at) AS window_start,
    site,
    lane,
    direction,
    lane_kind,
    sumState(toUInt64(1)) AS events,
    sumState(toUInt64(type = 'truck.border-crossed')) AS trucks_crossed,
    sumState(toUInt64(crossed_weight = 'none')) AS trucks_unweighed,
    sumState(toUInt64(0)) AS containers_moved,
    sumState(toFloat64(0)) AS teu_moved,
    sumState(toUInt64(crossed_kg)) AS gross_kg,
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
    sumState(toUInt64(0)) AS trucks_unweighed,
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
    sumState(toUInt64(0)) AS trucks_unweighed,
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
