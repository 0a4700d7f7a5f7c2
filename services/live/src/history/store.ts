import {
  journeyColumns,
  measuresOf,
  selectRows,
  sql,
  sqlJoin,
  throughputSeriesQuery,
  throughputTotalQuery,
  truckEventOfRow,
  type ClickHouseClient,
  type MeasureRow,
  type ThroughputFilter,
  type ThroughputMeasures,
  type ThroughputRange,
  type TruckEvent,
  type TruckRow,
} from '@tower/shared';
import { laneStateEventTypes, type ClearanceFigure, type StoredLaneState, type StoredPeople } from '../domain/kpis.ts';

/** The lane kinds whose clearances the KPI tiles show. */
export const clearanceLaneKinds = ['smart', 'manual'] as const;
export type ClearanceLaneKind = (typeof clearanceLaneKinds)[number];

/** How far before a gate-out a customs hold is looked for (holds last 10–45 min; a stay longer than this is not told apart). */
const holdLookbackSeconds = 6 * 3600;

/** Most events read for one plate: a truck crossing twice a day for 90 days stays far below. */
const maxPlateEvents = 20_000;

/** ClickHouse behind the history API's reads; all SQL through `sql`. */
export class HistoryStore {
  constructor(private readonly client: ClickHouseClient) {}

  /** Stored buckets by start (ms). */
  async series(filter: ThroughputFilter): Promise<Map<number, ThroughputMeasures>> {
    const rows = await selectRows<MeasureRow>(this.client, throughputSeriesQuery(filter));
    return new Map(rows.map((row) => [Number(row['bucket']) * 1000, measuresOf(row)]));
  }

  async total(range: ThroughputRange): Promise<ThroughputMeasures> {
    const [row] = await selectRows<MeasureRow>(this.client, throughputTotalQuery(range, 'total'));
    return measuresOf(row ?? {});
  }

  /** Figures per site id. */
  async bySite(range: ThroughputRange): Promise<Map<string, ThroughputMeasures>> {
    const rows = await selectRows<MeasureRow>(this.client, throughputTotalQuery(range, 'by-site'));
    return new Map(rows.map((row) => [String(row['site']), measuresOf(row)]));
  }

  /** Figures per `site/lane`. */
  async byLane(range: ThroughputRange): Promise<Map<string, ThroughputMeasures>> {
    const rows = await selectRows<MeasureRow>(this.client, throughputTotalQuery(range, 'by-lane'));
    return new Map(rows.map((row) => [`${String(row['site'])}/${String(row['lane'])}`, measuresOf(row)]));
  }

  /**
   * Clearances by lane kind of the trucks that left through a smart or manual lane in the
   * range, per site and for the zone (site ''), keyed `site/kind`. A truck is held when a
   * customs hold of its plate at that site lies between its plate read and its gate-out:
   * it is counted in `heldTrucks` and left out of the times (a gate-out stored twice counts
   * once: rows are grouped by event id). Raw rows, not throughput_1m: the aggregates know
   * neither the sample size nor the holds of a journey. No lambda over joined columns:
   * ClickHouse 18.16 drops the columns only a lambda uses from a subquery.
   */
  async clearances(range: { fromSeconds: number; toSeconds: number }): Promise<Map<string, ClearanceFigure>> {
    const rows = await selectRows<MeasureRow>(
      this.client,
      sql`SELECT scope, lane_kind,
          countIf(held = 0) AS trucks,
          countIf(held = 1) AS held_trucks,
          quantilesExactIf(0.5, 0.95)(clearance_ms, held = 0) AS clearance_q
        FROM (
          SELECT event_id, site, lane_kind, clearance_ms, max(held_ms >= out_ms - clearance_ms AND held_ms <= out_ms) AS held
          FROM (
            SELECT event_id, site, plate, lane_kind, observed_ms AS out_ms, clearance_ms FROM truck_events
            WHERE type = 'truck.gate-out' AND clearance_ms > 0 AND lane_kind IN ${clearanceLaneKinds}
              AND observed_at >= toDateTime(${range.fromSeconds}) AND observed_at < toDateTime(${range.toSeconds})
          ) AS gate_outs ALL LEFT JOIN (
            SELECT site, plate, observed_ms AS held_ms FROM truck_events
            WHERE type = 'truck.customs-held'
              AND observed_at >= toDateTime(${range.fromSeconds - holdLookbackSeconds}) AND observed_at < toDateTime(${range.toSeconds})
          ) AS holds USING (site, plate)
          GROUP BY event_id, site, lane_kind, clearance_ms
        )
        ARRAY JOIN [site, ''] AS scope
        GROUP BY scope, lane_kind`,
    );
    return new Map(
      rows.map((row) => {
        const { clearanceP50Ms: p50Ms, clearanceP95Ms: p95Ms } = measuresOf({ clearance_q: row['clearance_q'] });
        return [`${String(row['scope'])}/${String(row['lane_kind'])}`, { trucks: Number(row['trucks']), p50Ms, p95Ms, heldTrucks: Number(row['held_trucks']) }];
      }),
    );
  }

  /**
   * People per biometric gate and direction (people_1m) in the last hour and today, both
   * ranges ending at `toSeconds` (whichever starts first is read once).
   */
  async people(ranges: { lastHourFromSeconds: number; todayFromSeconds: number; toSeconds: number }): Promise<StoredPeople[]> {
    const { lastHourFromSeconds, todayFromSeconds, toSeconds } = ranges;
    const rows = await selectRows<Record<string, string | number>>(
      this.client,
      sql`SELECT site, lane, direction,
          sumIf(people, window_start >= toDateTime(${lastHourFromSeconds})) AS last_hour,
          sumIf(people, window_start >= toDateTime(${todayFromSeconds})) AS today
        FROM (
          SELECT site, lane, direction, window_start, sumMerge(people) AS people FROM people_1m
          WHERE window_start >= toDateTime(${Math.min(lastHourFromSeconds, todayFromSeconds)}) AND window_start < toDateTime(${toSeconds})
          GROUP BY site, lane, direction, window_start
        )
        GROUP BY site, lane, direction`,
    );
    return rows.map((row) => ({ site: String(row['site']), lane: String(row['lane']), direction: String(row['direction']), lastHour: Number(row['last_hour']), today: Number(row['today']) }));
  }

  /**
   * Each lane's last state event and last queue sample observed since `sinceMs` (to the
   * second, as `observed_at`), from `lane_last_1d` (migration 0009): each lane's newest
   * event of each type per UTC day, so the read merges lanes × types × days rows, not the
   * raw events of those days. A type's newest event of a day is kept only if it is at or
   * after the start: then it is the newest of that type since the start, as the raw rows
   * would say; if it is before, so is every event of its type that day. A lane with no
   * event since the start has no row, as the raw rows would say.
   */
  async laneStates(site: string | undefined, sinceMs: number): Promise<StoredLaneState[]> {
    const fromMs = Math.floor(sinceMs / 1000) * 1000;
    const conditions = [sql`day >= toDate(${new Date(fromMs).toISOString().slice(0, 10)})`];
    if (site !== undefined) conditions.push(sql`site = ${site}`);
    const isState = sql`type IN ${laneStateEventTypes} AND last_ms >= ${fromMs}`;
    const rows = await selectRows<Record<string, string | number>>(
      this.client,
      sql`SELECT site, lane,
          argMaxIf(type, last_ms, ${isState}) AS state_type,
          maxIf(last_ms, ${isState}) AS state_at,
          argMaxIf(queue_length, queue_ms, queue_ms >= ${fromMs}) AS queue_length,
          maxIf(queue_ms, queue_ms >= ${fromMs}) AS queue_at
        FROM (
          SELECT site, lane, type, maxMerge(last_ms) AS last_ms, argMaxIfMerge(queue_length) AS queue_length, maxIfMerge(queue_ms) AS queue_ms
          FROM lane_last_1d WHERE ${sqlJoin(conditions, ' AND ')}
          GROUP BY site, lane, type
        )
        GROUP BY site, lane
        HAVING max(last_ms) >= ${fromMs}`,
    );
    return rows.map((row) => ({
      site: String(row['site']),
      lane: String(row['lane']),
      stateType: String(row['state_type']),
      stateAt: Number(row['state_at']),
      queueLength: Number(row['queue_length']),
      queueAt: Number(row['queue_at']),
    }));
  }

  /** A plate's truck events observed since `sinceMs`, oldest first. */
  async plateEvents(plate: string, sinceMs: number): Promise<TruckEvent[]> {
    const rows = await selectRows<TruckRow>(
      this.client,
      sql`SELECT ${journeyColumns} FROM truck_events
        WHERE plate = ${plate} AND observed_at >= toDateTime(${Math.floor(sinceMs / 1000)})
        ORDER BY observed_ms, kafka_partition, kafka_offset LIMIT ${maxPlateEvents}`,
    );
    return rows.map(truckEventOfRow);
  }

  /**
   * Truck events since `lookbackSinceMs` of the `maxPlates` plates with the newest events
   * since `activeSinceMs` (at one site, or one plate), oldest first per plate. Reading the
   * plates' earlier events too makes a journey that started before the active window
   * whole, with the same start the live updates carry.
   */
  async recentPlateEvents(filter: { site?: string; plate?: string }, activeSinceMs: number, lookbackSinceMs: number, maxPlates: number): Promise<TruckEvent[]> {
    const active = [sql`observed_at >= toDateTime(${Math.floor(activeSinceMs / 1000)})`];
    if (filter.site !== undefined) active.push(sql`site = ${filter.site}`);
    if (filter.plate !== undefined) active.push(sql`plate = ${filter.plate}`);
    const rows = await selectRows<TruckRow>(
      this.client,
      sql`SELECT ${journeyColumns} FROM truck_events
        WHERE observed_at >= toDateTime(${Math.floor(lookbackSinceMs / 1000)})
          AND plate IN (SELECT plate FROM truck_events WHERE ${sqlJoin(active, ' AND ')} GROUP BY plate ORDER BY max(observed_ms) DESC, plate LIMIT ${maxPlates})
        ORDER BY plate, observed_ms, kafka_partition, kafka_offset LIMIT ${maxPlateEvents}`,
    );
    return rows.map(truckEventOfRow);
  }
}
