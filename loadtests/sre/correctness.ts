/**
 * Correctness under load, checked after the run: what the ingest API acknowledged is
 * stored, once (rows of this run's sources in ClickHouse, read with a read-only login),
 * and no window holds more bookings than places.
 */
import { callJson, type Target } from './target.ts';

const rawTables = ['truck_events', 'container_events', 'lane_events'] as const;

/** The run's events in the raw tables (source starts with the run's prefix): rows, and distinct event ids among them. */
export interface StoredEvents {
  rows: number;
  distinct: number;
}

export async function storedEvents(clickhouse: NonNullable<Target['clickhouse']>, sourcePrefix: string): Promise<StoredEvents> {
  if (!/^[a-z0-9-]+$/.test(sourcePrefix)) throw new Error(`source prefix ${sourcePrefix} is not [a-z0-9-]+`);
  const database = clickhouse.database.replace(/`/g, '');
  // An event's id is a UUID, and an event has one family: its rows are all in one table.
  const counts = rawTables.map((table) => `SELECT count() AS c, uniqExact(event_id) AS u FROM \`${database}\`.${table} WHERE source LIKE '${sourcePrefix}%'`).join(' UNION ALL ');
  const response = await fetch(`${clickhouse.url}/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clickhouse.user}:${clickhouse.password}`).toString('base64')}` },
    body: `SELECT sum(c), sum(u) FROM (${counts}) FORMAT TabSeparated`,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse answered ${response.status}: ${text.slice(0, 300)}`);
  const [rows, distinct] = text.trim().split('\t').map(Number);
  return { rows: rows ?? NaN, distinct: distinct ?? NaN };
}

/** Waits until the distinct stored events reach `accepted` or `deadlineMs` passes; the last count. */
export async function awaitStored(clickhouse: NonNullable<Target['clickhouse']>, sourcePrefix: string, accepted: number, deadlineMs: number): Promise<StoredEvents> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const stored = await storedEvents(clickhouse, sourcePrefix);
    if (stored.distinct >= accepted || Date.now() > until) return stored;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export interface WindowPlaces {
  laneKind: string;
  direction: string;
  windowStart: number;
  capacity: number;
  held: number;
  booked: number;
}

/** Windows of the site whose held + booked places exceed their capacity (none is correct). */
export async function overbookedWindows(target: Target, firmToken: string, site: string, from: number): Promise<WindowPlaces[]> {
  const { windows } = await callJson<{ windows: WindowPlaces[] }>(`${target.slots}/v1/slots?site=${encodeURIComponent(site)}&from=${from}`, firmToken);
  return windows.filter((w) => w.held + w.booked > w.capacity);
}
