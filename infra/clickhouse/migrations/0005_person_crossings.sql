-- People through the biometric gates of Bắc Luân I (lane.person-crossed, lane.v2). A
-- crossing is a lane event, stored in lane_events like the others (so the aggregator's
-- offsets keep it exactly-once), with its direction (exit / entry) in `direction`. It is
-- counted in `events` of throughput_1m/1h and never in trucks_crossed; people are
-- counted apart, per minute, site, gate and direction, in people_1m.
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the ALTERs come last, one column
-- each, after the CREATEs (which say IF NOT EXISTS), so a run that failed half-way
-- can be run again.
CREATE TABLE IF NOT EXISTS people_1m
(
    window_start DateTime('UTC'),
    site String,
    lane String,
    direction String,
    people AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, window_start, lane, direction);

CREATE MATERIALIZED VIEW IF NOT EXISTS people_1m_from_lane_events TO people_1m AS
SELECT
    toStartOfMinute(observed_at) AS window_start,
    site,
    lane,
    direction,
    sumState(toUInt64(1)) AS people
FROM lane_events
WHERE type = 'lane.person-crossed'
GROUP BY window_start, site, lane, direction;

-- What the gate checked (document kind, biometric or officer), on the raw rows only.
ALTER TABLE lane_events ADD COLUMN document_kind String AFTER battery_pct;
ALTER TABLE lane_events ADD COLUMN verification String AFTER document_kind;
