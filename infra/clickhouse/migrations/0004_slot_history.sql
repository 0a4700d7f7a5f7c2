-- Crossing slots, as the slots service published them on tower.slots.v1: every state
-- of every booking (held, confirmed, checked-in, late, completed, cancelled, expired,
-- no-show) and every window's places after each change. For history and reports:
-- bookings per firm and window, utilisation (booked / capacity), no-shows per firm.
-- A booking passes through each state at most once, so (booking_id, state) is unique:
-- a change published twice collapses to one row when parts merge. Readers take the
-- newest state per booking with argMax(state, updated_ms).
-- SQL here runs on ClickHouse 18.16 and on current releases (checked by chDB).
CREATE TABLE IF NOT EXISTS slot_bookings
(
    booking_id String,
    state String,
    firm String,
    plate String,
    cargo_class String,
    site String,
    lane_kind String,
    direction String,
    window_start DateTime,
    window_start_ms UInt64,
    window_end_ms UInt64,
    held_until_ms UInt64,
    created_ms UInt64,
    updated_ms UInt64,
    arrived_ms UInt64,
    cancelled_by String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, window_start, booking_id, state);

-- One row per change of a window's places; the highest version is the window as it
-- stands (ReplacingMergeTree keeps it when parts merge; readers use argMax on version).
CREATE TABLE IF NOT EXISTS slot_windows
(
    site String,
    lane_kind String,
    direction String,
    window_start DateTime,
    window_start_ms UInt64,
    capacity UInt32,
    held UInt32,
    booked UInt32,
    free UInt32,
    closed UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (site, lane_kind, direction, window_start);
