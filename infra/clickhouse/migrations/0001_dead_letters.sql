-- Messages that a consumer could not decode or process, copied from the
-- tower.deadletter.v1 topic so SREs can query them by source, reason and time.
-- Every migration must be safe to re-run (IF NOT EXISTS): ClickHouse has no
-- transactional DDL, so a half-applied migration is executed again from the top.
-- SQL here runs on ClickHouse 18.16 and on current releases (checked by chDB).
CREATE TABLE IF NOT EXISTS dead_letters
(
    dead_lettered_at DateTime,
    consumer String,
    source_topic String,
    source_partition UInt32,
    source_offset UInt64,
    message_key String,
    reason String,
    error_kind String,
    payload_base64 String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(dead_lettered_at)
ORDER BY (source_topic, source_partition, source_offset);
