-- A dead letter's id is its place on the dead-letter topic it was read from: that topic
-- (dlq_topic), its partition and offset. Before this migration the table kept only the
-- partition and offset, so letters of two dead-letter topics (a topic recreated under
-- another name, a test's own topic) shared ids, and the copier's "stored up to" offset of
-- one topic's partition skipped the other's letters. Rows copied before it came from the
-- one dead-letter topic a stack had, tower.deadletter.v1 (TOPIC_DEADLETTER's default):
-- they read as that topic. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the
-- migration runner skips an ALTER whose column exists, so the file is safe to re-run.
ALTER TABLE dead_letters ADD COLUMN dlq_topic String DEFAULT 'tower.deadletter.v1' AFTER payload_base64;
