import { selectRows, sql, sqlJoin, type ClickHouseClient } from '@tower/shared';
import { laneStateEventTypes, type StoredLaneState } from '../domain/kpis.ts';

/**
 * Each lane's last state event and last queue sample since `sinceMs`, read from the raw
 * `lane_events`: the query `HistoryStore.laneStates` ran before migration 0009, kept as
 * the definition its per-day aggregate must agree with (lane-states.int.test.ts) and as
 * the reference it is measured against (loadtests/bench/lane-states.ts). Not used by the
 * services: it reads every raw lane event since the start.
 */
export async function laneStatesFromRawRows(client: ClickHouseClient, site: string | undefined, sinceMs: number): Promise<StoredLaneState[]> {
  const isState = sql`type IN ${laneStateEventTypes}`;
  const conditions = [sql`observed_at >= toDateTime(${Math.floor(sinceMs / 1000)})`, sql`lane != ''`];
  if (site !== undefined) conditions.push(sql`site = ${site}`);
  const rows = await selectRows<Record<string, string | number>>(
    client,
    sql`SELECT site, lane, argMaxIf(type, observed_ms, ${isState}) AS state_type, maxIf(observed_ms, ${isState}) AS state_at,
        argMaxIf(queue_length, observed_ms, has_queue_length = 1) AS queue_length, maxIf(observed_ms, has_queue_length = 1) AS queue_at
      FROM lane_events WHERE ${sqlJoin(conditions, ' AND ')} GROUP BY site, lane`,
  );
  return rows.map((row) => ({ site: String(row['site']), lane: String(row['lane']), stateType: String(row['state_type']), stateAt: Number(row['state_at']), queueLength: Number(row['queue_length']), queueAt: Number(row['queue_at']) }));
}
