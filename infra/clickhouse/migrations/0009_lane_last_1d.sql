-- Each lane's newest event of each type per UTC day (issue 19, item 8). The KPI round
-- (every 2 s) reads each lane's last state event and last queue sample of the last
-- LANE_STATE_LOOKBACK_DAYS (7) days: it scanned every raw lane_events row of those days,
-- the most frequent query on ClickHouse under load. It now merges at most lanes × event
-- types × days rows of this table (services/live/src/history/store.ts, laneStates),
-- with the same answer: a type's newest event of a day is the newest event of that type
-- that day, and the read keeps only those at or after its start.
-- max and argMax are idempotent: a row fed twice changes nothing. So the backfill below
-- may race the view (a row inserted meanwhile is counted by both) and the file may run
-- again; and the aggregate repair inserts a doubtful hour's rows again through the view
-- instead of comparing and deleting (services/aggregator/src/repair.ts).
CREATE TABLE IF NOT EXISTS lane_last_1d
(
    day Date,
    site String,
    lane String,
    type String,
    last_ms AggregateFunction(max, UInt64),
    queue_length AggregateFunction(argMaxIf, UInt32, UInt64, UInt8),
    queue_ms AggregateFunction(maxIf, UInt64, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (site, lane, day, type);

CREATE MATERIALIZED VIEW IF NOT EXISTS lane_last_1d_from_lane_events TO lane_last_1d AS
SELECT
    toDate(observed_at) AS day,
    site,
    lane,
    type,
    maxState(observed_ms) AS last_ms,
    argMaxIfState(queue_length, observed_ms, has_queue_length) AS queue_length,
    maxIfState(observed_ms, has_queue_length) AS queue_ms
FROM lane_events
WHERE lane != ''
GROUP BY day, site, lane, type;

-- The backfill: the view's SELECT again (SQL cannot name it), over every stored row.
INSERT INTO lane_last_1d
SELECT
    toDate(observed_at) AS day,
    site,
    lane,
    type,
    maxState(observed_ms) AS last_ms,
    argMaxIfState(queue_length, observed_ms, has_queue_length) AS queue_length,
    maxIfState(observed_ms, has_queue_length) AS queue_ms
FROM lane_events
WHERE lane != ''
GROUP BY day, site, lane, type;
