import { clickHouseDateTime, jsonMessageDecoder, selectRows, sql, sqlJoin, type ClickHouseClient, type TowerProducer } from '@tower/shared';
import { Alert } from '../domain/alerts.ts';

/** An alert from `tower.alerts.v1`. */
export const decodeAlert = jsonMessageDecoder(Alert, 'an alert');

/**
 * Where alert changes go: `tower.alerts.v1` first (every gateway instance reads it as a
 * broadcast and pushes it on the `alerts` channel; resolves once all in-sync replicas
 * have it), then the `alert_events` history in ClickHouse. Publishing the same revision
 * twice is harmless: clients keep the highest revision per id and the table collapses it.
 * The history keeps the acknowledging token's id, not its display name (no column for
 * it: ClickHouse 18.16 cannot add one re-runnably): a history row takes the name the
 * access registry gives that id now, the id itself when the registry no longer holds it.
 */
export class AlertLog {
  constructor(
    private readonly producer: TowerProducer,
    private readonly topic: string,
    private readonly clickhouse: ClickHouseClient,
    private readonly displayName: (tokenId: string) => string | undefined,
  ) {}

  async publish(alert: Alert): Promise<void> {
    await this.producer.send([{ topic: this.topic, messages: [{ key: alert.id, value: JSON.stringify(alert) }] }]);
    await this.clickhouse.insert({
      table: 'alert_events',
      format: 'JSONEachRow',
      values: [
        {
          alert_id: alert.id,
          revision: alert.revision,
          cause: alert.cause,
          rule: alert.rule,
          severity: alert.severity,
          site: alert.site,
          lane: alert.lane ?? '',
          state: alert.state,
          value: alert.value,
          threshold: alert.threshold,
          raised_ms: alert.raisedAt,
          acknowledged_ms: alert.acknowledgedAt ?? 0,
          acknowledged_by: alert.acknowledgedBy ?? '',
          cleared_ms: alert.clearedAt ?? 0,
          changed_at: clickHouseDateTime(alert.clearedAt ?? alert.acknowledgedAt ?? alert.raisedAt),
        },
      ],
    });
  }

  /** The newest revision of each alert raised since `sinceMs`, newest first. */
  async recent(sinceMs: number, site: string | undefined, limit: number): Promise<Alert[]> {
    const conditions = [sql`changed_at >= toDateTime(${Math.floor(sinceMs / 1000)})`];
    if (site !== undefined) conditions.push(sql`site = ${site}`);
    const rows = await selectRows<Record<string, string | number>>(
      this.clickhouse,
      sql`SELECT alert_id, revision, cause, rule, severity, site, lane, state, value, threshold, raised_ms, acknowledged_ms, acknowledged_by, cleared_ms
        FROM alert_events
        WHERE (alert_id, revision) IN (SELECT alert_id, max(revision) FROM alert_events WHERE ${sqlJoin(conditions, ' AND ')} GROUP BY alert_id)
        ORDER BY raised_ms DESC, alert_id LIMIT 1 BY alert_id LIMIT ${limit}`,
    );
    return rows.map((row): Alert => {
      const acknowledgedBy = row['acknowledged_by'] === '' ? null : String(row['acknowledged_by']);
      return {
        id: String(row['alert_id']),
        revision: Number(row['revision']),
        cause: String(row['cause']),
        rule: String(row['rule']) as Alert['rule'],
        severity: String(row['severity']) as Alert['severity'],
        site: String(row['site']),
        lane: row['lane'] === '' ? null : String(row['lane']),
        state: String(row['state']) as Alert['state'],
        value: Number(row['value']),
        threshold: Number(row['threshold']),
        raisedAt: Number(row['raised_ms']),
        acknowledgedAt: Number(row['acknowledged_ms']) || null,
        acknowledgedBy,
        acknowledgedByName: acknowledgedBy === null ? null : (this.displayName(acknowledgedBy) ?? acknowledgedBy),
        clearedAt: Number(row['cleared_ms']) || null,
      };
    });
  }
}
