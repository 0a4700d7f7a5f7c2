-- Every change of every alert (raised, acknowledged, cleared), as the live gateway
-- published it on tower.alerts.v1: the alert history operators and SREs look back on.
-- One row per (alert_id, revision); a change written twice (a retried publish)
-- collapses to one row when parts merge, and readers take the highest revision.
-- SQL here runs on ClickHouse 18.16 and on current releases (checked by chDB).
CREATE TABLE IF NOT EXISTS alert_events
(
    alert_id String,
    revision UInt32,
    cause String,
    rule String,
    severity String,
    site String,
    lane String,
    state String,
    value Float64,
    threshold Float64,
    raised_ms UInt64,
    acknowledged_ms UInt64,
    acknowledged_by String,
    cleared_ms UInt64,
    changed_at DateTime
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(changed_at)
ORDER BY (alert_id, revision);
