import type { Site } from '@tower/shared';
import { h } from './dom.ts';
import { dictionaries, formatDuration, formatNumber, locales, type Language, type MessageKey } from './i18n.ts';
import type { Alert, KpisNow, LaneGrid, LaneNow, SlotWindowUse } from './state.ts';

export { fill } from './dom.ts';

/** What the panels are drawn for: the language, the catalog's names, and who is watching. */
export interface View {
  language: Language;
  sites: readonly Site[];
  /** Operators get acknowledge buttons; displays only show. */
  role: string | undefined;
  /** Alerts whose acknowledgement failed (shown as such until it succeeds). */
  failedAcknowledgements: ReadonlySet<string>;
}

export const text = (view: View, key: MessageKey) => dictionaries[view.language][key];
export const named = (view: View, names: Record<string, string> | undefined, fallback: string) => names?.[view.language] ?? names?.['vi'] ?? fallback;
export const clockTime = (view: View, ms: number) => new Intl.DateTimeFormat(locales[view.language], { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);

/** A share as a percentage: one decimal under 10 % (a few bookings of hundreds of places still show). */
const percent = (view: View, share: number) => `${formatNumber(share * 100, view.language, share < 0.1 ? 1 : 0)}%`;

function tile(key: string, label: string, value: string, note = '', verdict: 'good' | 'bad' | '' = ''): HTMLElement {
  return h('div', { class: `tile ${verdict}`.trim(), data: { kpi: key } }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), h('div', { class: 'note' }, note));
}

export function kpiTiles(kpis: KpisNow, view: View): HTMLElement[] {
  const { language } = view;
  const t = (key: MessageKey) => text(view, key);
  const hour = kpis.lastHour;
  const verdict = kpis.clearance.withinTarget === null ? '' : kpis.clearance.withinTarget ? 'good' : 'bad';
  return [
    tile('trucksPerHour', t('kpi.trucksPerHour'), formatNumber(hour.trucksCrossed, language)),
    tile('teuPerHour', t('kpi.teuPerHour'), formatNumber(hour.teuMoved, language, 1)),
    tile('tonnesToday', t('kpi.tonnesToday'), formatNumber(kpis.today.tonnes, language, 1)),
    tile('clearance', t('kpi.clearance'), `${formatDuration(hour.clearanceP50Ms, language)} / ${formatDuration(kpis.clearance.p95Ms, language)}`, `${t('kpi.target')} ≤ ${formatDuration(kpis.clearance.targetMs, language)}`, verdict),
    tile('turnaround', t('kpi.turnaround'), formatDuration(hour.turnaroundP50Ms, language)),
    tile('queue', t('kpi.queue'), formatNumber(kpis.queueLength, language)),
    tile('lanesOpen', t('kpi.lanesOpen'), `${kpis.lanesOpen} / ${kpis.lanesTotal}`),
  ];
}

function laneName(view: View, lane: LaneNow): string {
  const known = view.sites.find((s) => s.id === lane.site)?.lanes.find((l) => l.id === lane.lane);
  return named(view, known?.names, lane.lane);
}

export function laneItems(lanes: readonly LaneNow[], view: View): HTMLElement[] {
  const { language } = view;
  const t = (key: MessageKey) => text(view, key);
  return lanes.map((lane) =>
    h(
      'li',
      { data: { lane: lane.lane, status: lane.status } },
      h('div', { class: 'name' }, laneName(view, lane)),
      h('div', { class: 'state' }, `${t(`status.${lane.status}`)} · ${t(`direction.${lane.direction}`)}`),
      h('div', { class: 'figures' }, `${formatNumber(lane.lastHour.trucksCrossed, language)} ${t('lane.lastHour')} · ${lane.queueLength === null ? t('noData') : formatNumber(lane.queueLength, language)} ${t('lane.queue')}`),
    ),
  );
}

/** The zone's crossings, each summed from its lanes; `current` is the site on screen (null: the zone). */
export function siteItems(grid: LaneGrid, current: string | null, view: View): HTMLElement[] {
  const { language } = view;
  const t = (key: MessageKey) => text(view, key);
  return view.sites.map((s) => {
    const summary = grid.summary(s.id);
    return h(
      'li',
      { data: { site: s.id, status: summary.worst }, attrs: { 'aria-current': String(s.id === current) } },
      h('span', { class: 'mark' }),
      h(
        'div',
        {},
        h('div', { class: 'name' }, named(view, s.names, s.id)),
        h('div', { class: 'figures' }, `${summary.lanesOpen}/${summary.lanesTotal} ${t('site.lanes')} · ${formatNumber(summary.trucksLastHour, language)} ${t('site.trucks')} · ${formatNumber(summary.queueLength, language)} ${t('site.queue')}`),
      ),
    );
  });
}

function alertPlace(view: View, alert: Alert): string {
  const where = view.sites.find((s) => s.id === alert.site);
  const siteName = named(view, where?.names, alert.site);
  if (alert.lane === null) return siteName;
  return `${named(view, where?.lanes.find((l) => l.id === alert.lane)?.names, alert.lane)} · ${siteName}`;
}

function alertFigures(view: View, alert: Alert): string {
  const { language } = view;
  switch (alert.rule) {
    case 'clearance-over-target':
      return `${formatDuration(alert.value, language)} > ${formatDuration(alert.threshold, language)}`;
    case 'throughput-below-nominal':
      return `${formatNumber(alert.value, language)} < ${formatNumber(alert.threshold, language)} ${text(view, 'lane.lastHour')}`;
    case 'queue-over-threshold':
    case 'customs-hold-spike':
      return `${formatNumber(alert.value, language)} ≥ ${formatNumber(alert.threshold, language)}`;
    case 'lane-fault':
      return '';
  }
}

export function alertItems(list: readonly Alert[], view: View): HTMLElement[] {
  const t = (key: MessageKey) => text(view, key);
  if (list.length === 0) return [h('li', { class: 'empty' }, t('alerts.none'))];
  return list.map((alert) => {
    const state =
      alert.state === 'cleared'
        ? `${t('alerts.cleared')} ${clockTime(view, alert.clearedAt ?? 0)}`
        : alert.state === 'acknowledged'
          ? `${t('alerts.acknowledgedBy')} ${alert.acknowledgedBy ?? ''} ${clockTime(view, alert.acknowledgedAt ?? 0)}`
          : '';
    const failed = view.failedAcknowledgements.has(alert.id) ? ` · ${t('alerts.failed')}` : '';
    return h(
      'li',
      { data: { alert: alert.id, rule: alert.rule, lane: alert.lane ?? '', state: alert.state, severity: alert.severity } },
      h('div', { class: 'what' }, t(`rule.${alert.rule}`)),
      h('div', {}, `${alertPlace(view, alert)} ${alertFigures(view, alert)}`),
      h('div', { class: 'when' }, `${clockTime(view, alert.raisedAt)}${state ? ` · ${state}` : ''}${failed}`),
      view.role === 'operator' && alert.state === 'active' && h('button', { attrs: { type: 'button' }, data: { acknowledge: alert.id } }, t('alerts.acknowledge')),
    );
  });
}

/** A bar segment `share` of the bar wide (through CSSOM: a strict CSP blocks `style` attributes, not this). */
function segment(name: string, share: number): HTMLElement {
  const part = h('span', { class: name });
  part.style.width = `${(100 * share).toFixed(1)}%`;
  return part;
}

export function slotItems(uses: readonly SlotWindowUse[], view: View): HTMLElement[] {
  const { language } = view;
  const t = (key: MessageKey) => text(view, key);
  if (uses.length === 0) return [h('li', { class: 'empty' }, t('slots.none'))];
  return uses.map((use) => {
    const share = (n: number) => (use.capacity === 0 ? 0 : n / use.capacity);
    const closed = use.closedGroups > 0 ? ` · ${use.closedGroups} ${t('slots.closed')}` : '';
    return h(
      'li',
      { data: { window: String(use.windowStart), full: String(use.utilisation >= 1) } },
      h('span', { class: 'when' }, `${clockTime(view, use.windowStart)}–${clockTime(view, use.windowEnd)}`),
      h('span', { class: 'bar', attrs: { role: 'img', 'aria-label': percent(view, use.utilisation) } }, segment('booked', share(use.booked)), segment('held', share(use.held))),
      h('span', { class: 'figures' }, `${formatNumber(use.booked, language)} ${t('slots.booked')} · ${formatNumber(use.held, language)} ${t('slots.held')} / ${formatNumber(use.capacity, language)} (${percent(view, use.utilisation)})${closed}`),
    );
  });
}
