-- Dead letters become something to list and replay (issue 17): the aggregator copies
-- tower.deadletter.v1 into dead_letters (its group tower-aggregator-dead-letters), and
-- `npm run dlq` reads them from here. A dead letter's id is its place on the dead-letter
-- topic (dlq_partition:dlq_offset): the copier skips what is stored up to the highest
-- stored offset of each partition, so a crash between the insert and the commit stores
-- nothing twice. headers_json holds the source message's own headers (device, trace),
-- which a replay sends again with its key and value; detail is the error's text.
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner skips an
-- `ALTER TABLE t ADD COLUMN c` whose column exists, so the file is safe to re-run.
ALTER TABLE dead_letters ADD COLUMN detail String AFTER reason;
ALTER TABLE dead_letters ADD COLUMN headers_json String AFTER message_key;
ALTER TABLE dead_letters ADD COLUMN dlq_partition UInt32;
ALTER TABLE dead_letters ADD COLUMN dlq_offset UInt64;
