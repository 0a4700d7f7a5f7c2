import type { Alert } from './alerts.ts';

const severityOrder: Readonly<Record<Alert['severity'], number>> = { critical: 0, warning: 1 };

/**
 * How GET /v1/alerts lists alerts: open ones first, the most severe and newest on top,
 * then the cleared ones, most recently cleared first. The wall orders by state first
 * (acknowledged below unacknowledged, `AlertPanel.list`) and then by this.
 * (Type-only imports: the wall bundles this file.)
 */
export function compareAlerts(a: Alert, b: Alert): number {
  const aCleared = a.state === 'cleared' ? 1 : 0;
  const bCleared = b.state === 'cleared' ? 1 : 0;
  if (aCleared !== bCleared) return aCleared - bCleared;
  if (!aCleared) return severityOrder[a.severity] - severityOrder[b.severity] || b.raisedAt - a.raisedAt;
  return (b.clearedAt ?? 0) - (a.clearedAt ?? 0);
}
