import { bookingStates, type BookingState, type SlotAvailability, type SlotBooking } from '../events/slot-changes.ts';
import { clickHouseDateTime } from './datetime.ts';
import { sql, sqlJoin, type SqlFragment } from './sql.ts';
import { selectRows, type ClickHouseClient } from './client.ts';

/**
 * Rows of the slot history tables (migration 0004): written by the slots service's
 * history consumer, read by the live gateway for the `slots` and `bookings` snapshots.
 */
export function bookingRow(booking: SlotBooking): Record<string, string | number> {
  return {
    booking_id: booking.id,
    state: booking.state,
    firm: booking.firm,
    plate: booking.plate,
    cargo_class: booking.cargoClass,
    site: booking.site,
    lane_kind: booking.laneKind,
    direction: booking.direction,
    window_start: clickHouseDateTime(booking.windowStart),
    window_start_ms: booking.windowStart,
    window_end_ms: booking.windowEnd,
    held_until_ms: booking.heldUntil,
    created_ms: booking.createdAt,
    updated_ms: booking.updatedAt,
    arrived_ms: booking.arrivedAt ?? 0,
    cancelled_by: booking.cancelledBy ?? '',
  };
}

export function windowRow(availability: SlotAvailability): Record<string, string | number> {
  return {
    site: availability.site,
    lane_kind: availability.laneKind,
    direction: availability.direction,
    window_start: clickHouseDateTime(availability.windowStart),
    window_start_ms: availability.windowStart,
    capacity: availability.capacity,
    held: availability.held,
    booked: availability.booked,
    free: availability.free,
    closed: availability.closed ? 1 : 0,
    version: availability.version,
  };
}

type BookingRowOut = Record<'booking_id' | 'state' | 'firm' | 'plate' | 'cargo_class' | 'site' | 'lane_kind' | 'direction' | 'cancelled_by', string> &
  Record<'window_start_ms' | 'window_end_ms' | 'held_until_ms' | 'created_ms' | 'updated_ms' | 'arrived_ms', string | number>;

function bookingOfRow(row: BookingRowOut): SlotBooking {
  return {
    id: row.booking_id,
    firm: row.firm,
    plate: row.plate,
    cargoClass: row.cargo_class as SlotBooking['cargoClass'],
    site: row.site,
    laneKind: row.lane_kind,
    direction: row.direction as SlotBooking['direction'],
    windowStart: Number(row.window_start_ms),
    windowEnd: Number(row.window_end_ms),
    state: row.state as BookingState,
    heldUntil: Number(row.held_until_ms),
    createdAt: Number(row.created_ms),
    updatedAt: Number(row.updated_ms),
    arrivedAt: Number(row.arrived_ms) || null,
    cancelledBy: row.cancelled_by === '' ? null : (row.cancelled_by as 'firm' | 'operator'),
  };
}

/** Which of two states of one booking is newer: the later change, or the later state of the lifecycle. */
export function newerBooking(a: SlotBooking, b: SlotBooking): SlotBooking {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt ? a : b;
  return bookingStates.indexOf(a.state) >= bookingStates.indexOf(b.state) ? a : b;
}

/** The newest state of each booking (of one firm, or all) whose window starts in [fromMs, toMs), by window start. */
export async function readSlotBookings(clickhouse: ClickHouseClient, range: { fromMs: number; toMs: number; firm?: string; maxRows: number }): Promise<SlotBooking[]> {
  const conditions: SqlFragment[] = [sql`window_start >= toDateTime(${Math.floor(range.fromMs / 1000)})`, sql`window_start < toDateTime(${Math.ceil(range.toMs / 1000)})`];
  if (range.firm !== undefined) conditions.push(sql`firm = ${range.firm}`);
  const rows = await selectRows<BookingRowOut>(
    clickhouse,
    sql`SELECT booking_id, state, firm, plate, cargo_class, site, lane_kind, direction, window_start_ms, window_end_ms, held_until_ms, created_ms, updated_ms, arrived_ms, cancelled_by
      FROM slot_bookings WHERE ${sqlJoin(conditions, ' AND ')} ORDER BY window_start_ms, booking_id LIMIT ${range.maxRows}`,
  );
  const newest = new Map<string, SlotBooking>();
  for (const row of rows) {
    const booking = bookingOfRow(row);
    const known = newest.get(booking.id);
    newest.set(booking.id, known ? newerBooking(known, booking) : booking);
  }
  return [...newest.values()];
}

/** The newest places of each window (of one site, or all) starting in [fromMs, toMs) that ever changed. */
export async function readSlotWindows(clickhouse: ClickHouseClient, range: { fromMs: number; toMs: number; windowMs: number; site?: string }): Promise<SlotAvailability[]> {
  const conditions: SqlFragment[] = [sql`window_start >= toDateTime(${Math.floor(range.fromMs / 1000)})`, sql`window_start < toDateTime(${Math.ceil(range.toMs / 1000)})`];
  if (range.site !== undefined) conditions.push(sql`site = ${range.site}`);
  const rows = await selectRows<Record<string, string | number>>(
    clickhouse,
    sql`SELECT site, lane_kind, direction, window_start_ms, argMax(capacity, version) AS last_capacity, argMax(held, version) AS last_held, argMax(booked, version) AS last_booked,
        argMax(free, version) AS last_free, argMax(closed, version) AS last_closed, max(version) AS last_version
      FROM slot_windows WHERE ${sqlJoin(conditions, ' AND ')} GROUP BY site, lane_kind, direction, window_start_ms`,
  );
  return rows.map((row) => ({
    site: String(row['site']),
    laneKind: String(row['lane_kind']),
    direction: String(row['direction']) as SlotAvailability['direction'],
    windowStart: Number(row['window_start_ms']),
    windowEnd: Number(row['window_start_ms']) + range.windowMs,
    capacity: Number(row['last_capacity']),
    held: Number(row['last_held']),
    booked: Number(row['last_booked']),
    free: Number(row['last_free']),
    closed: Number(row['last_closed']) === 1,
    version: Number(row['last_version']),
  }));
}
