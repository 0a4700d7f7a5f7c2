import type { Site } from '@tower/shared';
import { h, type Child } from '@tower/shared/web/dom';
import { ago, count, dictionaries, formatDuration, formatNumber, hourMinute, shortSiteNames, type Language, type MessageKey } from './i18n.ts';
import type { ConnectionState } from './live-client.ts';
import { isGateForPeople, listedStatuses, type Alert, type ClearanceFigure, type ClearanceVerdict, type KpisNow, type LaneGroup, type LaneNow, type LaneStatus, type QueueLevel, type SiteSummary, type SlotWindowUse } from './state.ts';

export { fill } from '@tower/shared/web/dom';

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
export const clockTime = (view: View, ms: number) => hourMinute(ms, view.language);

/** A share as a percentage: one decimal under 10 % (a few bookings of hundreds of places still show). */
const percent = (view: View, share: number) => `${formatNumber(share * 100, view.language, share < 0.1 ? 1 : 0)}%`;

/** The shape beside each state's word and colour, so that no state is told by colour alone. */
export const stateIcons: Readonly<Record<LaneStatus, string>> = { open: '✔', congested: '▲', fault: '✖', closed: '■', unknown: '?' };
export const severityIcons: Readonly<Record<Alert['severity'], string>> = { critical: '✖', warning: '▲' };
/** The colour each severity's chip takes from the lane states. */
const severityColour: Readonly<Record<Alert['severity'], LaneStatus>> = { critical: 'fault', warning: 'congested' };
export const connectionIcons: Readonly<Record<ConnectionState, string>> = { live: '✔', connecting: '↻', lost: '✖' };

/** A state as icon and word on its colour (the colour comes from `data-status`). */
export function chip(status: LaneStatus, icon: string, word: string): HTMLElement {
  return h('span', { class: 'chip', data: { status } }, h('span', { class: 'icon', attrs: { 'aria-hidden': 'true' } }, icon), word);
}

export const shortSiteName = (view: View, site: string) => shortSiteNames[site]?.[view.language] ?? view.sites.find((s) => s.id === site)?.code.toUpperCase() ?? site;

function tile(key: string, label: string, value: string, note: readonly Child[] = [], verdict: 'good' | 'bad' | '' = ''): HTMLElement {
  // The unit after the figure is set smaller ("9,7 giây", "12 phút", "9.7秒"), so the figure keeps its size in a narrow tile.
  const [, figure = value, unit = ''] = /^([\d.,\s/]*\d)\s?(\D*)$/u.exec(value) ?? [];
  // The note's parts (a judgement chip, its words) flow a space apart: on one line where they fit, wrapping between them where not.
  const parts = note.filter(Boolean).flatMap((part, i) => (i === 0 ? [part] : [' ', part]));
  return h('div', { class: `tile ${verdict}`.trim(), data: { kpi: key } }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, figure, unit && h('span', { class: 'unit' }, unit)), h('div', { class: 'note' }, ...parts));
}

/** A tile's judgement as icon and word on its colour (the colour of the lane state it borrows). */
type TileState = Exclude<ClearanceVerdict, 'none'> | QueueLevel;
const tileStates: Readonly<Record<TileState, { status: LaneStatus; icon: string; word: MessageKey }>> = {
  within: { status: 'open', icon: '✔', word: 'verdict.within' },
  over: { status: 'fault', icon: '✖', word: 'verdict.over' },
  'too-few': { status: 'unknown', icon: '?', word: 'verdict.too-few' },
  normal: { status: 'open', icon: '✔', word: 'level.normal' },
  warning: { status: 'congested', icon: '▲', word: 'severity.warning' },
  critical: { status: 'fault', icon: '✖', word: 'severity.critical' },
};
function tileChip(state: TileState, view: View): HTMLElement {
  const { status, icon, word } = tileStates[state];
  const element = chip(status, icon, text(view, word));
  element.dataset['judged'] = state;
  return element;
}

/** "n = 42 trucks · 3 held": the sample a clearance figure is taken from, and the held trucks left out of it. */
function sampleNote(figure: ClearanceFigure, language: Language): string {
  return [count('sample', figure.trucks, language), figure.heldTrucks > 0 && count('held', figure.heldTrucks, language)].filter(Boolean).join(' · ');
}

export function kpiTiles(kpis: KpisNow, view: View): HTMLElement[] {
  const { language } = view;
  const t = (key: MessageKey) => text(view, key);
  const hour = kpis.lastHour;
  const { smart, manual, minTrucks, targetMs } = kpis.clearance;
  const smartVerdict = smart.verdict === 'within' ? 'good' : smart.verdict === 'over' ? 'bad' : '';
  // Manual lanes have no target: their figure is shown, and said to be too few when it is.
  const manualState = manual.trucks > 0 && manual.trucks < minTrucks ? tileChip('too-few', view) : null;
  return [
    tile('trucksPerHour', t('kpi.trucksPerHour'), formatNumber(hour.trucksCrossed, language)),
    tile('teuPerHour', t('kpi.teuPerHour'), formatNumber(hour.teuMoved, language, 1)),
    // Weighbridge weights, else declared ones; the trucks with neither are said, not guessed.
    tile('tonnesToday', t('kpi.tonnesToday'), formatNumber(kpis.today.tonnes, language, kpis.today.tonnes < 100 ? 1 : 0), [kpis.today.trucksUnweighed > 0 && count('unweighed', kpis.today.trucksUnweighed, language)]),
    tile(
      'clearance',
      t('kpi.clearance'),
      formatDuration(smart.p95Ms, language),
      [smart.verdict !== 'none' && tileChip(smart.verdict, view), `${sampleNote(smart, language)} · ${t('kpi.target')} ${formatDuration(targetMs, language)}`],
      smartVerdict,
    ),
    tile('clearanceManual', t('kpi.clearanceManual'), formatDuration(manual.p95Ms, language), [manualState, sampleNote(manual, language)]),
    tile('turnaround', t('kpi.turnaround'), formatDuration(hour.turnaroundP50Ms, language), [t('kpi.turnaroundNote')]),
    tile('queue', t('kpi.queue'), formatNumber(kpis.queueLength, language), [tileChip(kpis.queueLevel, view), count('longestQueue', kpis.queueLongest, language)], kpis.queueLevel === 'critical' ? 'bad' : ''),
    tile('lanesOpen', t('kpi.lanesOpen'), `${kpis.lanesOpen} / ${kpis.lanesTotal}`, [tileChip(kpis.lanesOpenLevel, view)]),
    // On the page of a crossing with gates for people (Bắc Luân I); the zone's row has no room for a ninth tile at 1366x768, and its schematic says Bắc Luân I's people per hour.
    ...(kpis.site !== null && kpis.lanes.some(isGateForPeople) ? [peopleTile(kpis, view)] : []),
  ];
}

/** People per hour through the biometric gates (Bắc Luân I), exits and entries apart: never added to a truck figure. */
function peopleTile(kpis: KpisNow, view: View): HTMLElement {
  const { exits, entries } = kpis.people.lastHour;
  const { language } = view;
  const way = (n: number, key: MessageKey) => `${formatNumber(n, language)} ${text(view, key)}`;
  return tile('peoplePerHour', text(view, 'kpi.peoplePerHour'), formatNumber(exits + entries, language), [`${way(exits, 'people.exits')} · ${way(entries, 'people.entries')}`]);
}

function laneName(view: View, lane: LaneNow): string {
  const known = view.sites.find((s) => s.id === lane.site)?.lanes.find((l) => l.id === lane.lane);
  return named(view, known?.names, lane.lane);
}

/**
 * A lane's short label on its tile, from the catalog's kind and direction and the number
 * its id ends with ("Thông minh · Xuất 3"); the catalog's full name is the tile's title.
 */
export function laneLabel(view: View, lane: LaneNamed): string {
  const { kind, direction, number } = laneLabelParts(view, lane);
  return text(view, 'lane.label').replace('{kind}', kind).replace('{direction}', direction).replace('{n}', number);
}

/** What a lane is called by: the catalog's id, kind and direction (a live lane or a catalog one). */
export type LaneNamed = Pick<LaneNow, 'lane' | 'kind' | 'direction'>;

/** A lane label's parts: its kind's word, its direction's word, the number its id ends with. */
export function laneLabelParts(view: View, lane: LaneNamed): { kind: string; direction: string; number: string } {
  return { kind: text(view, `kind.${lane.kind}`), direction: text(view, directionWord(lane)), number: /-(\d+)$/.exec(lane.lane)?.[1] ?? lane.lane };
}

/** A gate for people's direction is exit (xuất cảnh) or entry (nhập cảnh), a vehicle lane's export or import. */
function directionWord(lane: LaneNamed): MessageKey {
  if (isGateForPeople(lane)) return lane.direction === 'export' ? 'direction.exit' : 'direction.entry';
  return `direction.${lane.direction}`;
}

/** A lane tile: its state (icon, word, colour), its site and its name, its last hour and queue. */
export function laneTile(lane: LaneNow, view: View): HTMLElement {
  const { language } = view;
  return h(
    'li',
    { class: 'lane', data: { lane: lane.lane, site: lane.site, status: lane.status } },
    h('div', { class: 'head' }, chip(lane.status, stateIcons[lane.status], text(view, `status.${lane.status}`)), h('span', { class: 'site' }, shortSiteName(view, lane.site))),
    h('div', { class: 'name', attrs: { title: laneName(view, lane) } }, laneLabel(view, lane)),
    h(
      'div',
      { class: 'figures' },
      isGateForPeople(lane)
        ? count('peoplePerHour', lane.lastHour.people, language)
        : `${count('trucksPerHour', lane.lastHour.trucksCrossed, language)} · ${lane.queueLength === null ? text(view, 'noData') : count('queuing', lane.queueLength, language)}`,
    ),
  );
}

/** A state count as icon, number and word ("✖ 1 Sự cố"), for the states that have lanes. */
function stateCounts(counts: Readonly<Record<LaneStatus, number>>, view: View): HTMLElement[] {
  return listedStatuses
    .filter((status) => counts[status] > 0)
    .map((status) => h('span', { class: 'count', data: { status } }, h('span', { class: 'icon', attrs: { 'aria-hidden': 'true' } }, stateIcons[status]), ` ${counts[status]} ${text(view, `status.${status}`)}`));
}

/** A site's heading in the lane grid, with its lanes counted by state. */
export function laneGroupHeader(group: LaneGroup, view: View, continued: boolean): HTMLElement {
  const name = `${shortSiteName(view, group.site)}${continued ? ` ${text(view, 'lanes.continued')}` : ''}`;
  return h('li', { class: 'group', data: { group: group.site } }, h('span', { class: 'site' }, name), ...stateCounts(group.counts, view));
}

/** A crossing's last hour and queue, summed from its lanes ("99 xe/giờ · 3 xe chờ"). */
export function siteFigures(summary: SiteSummary, view: View): string {
  // People apart from trucks, never added to them; a crossing with only gates for people (Bắc Luân I) says no "0 trucks/h".
  const people = summary.gatesForPeople > 0 ? [count('peoplePerHour', summary.peopleLastHour, view.language)] : [];
  const vehicles = summary.gatesForPeople === 0 || summary.lanesTotal > summary.gatesForPeople ? [count('trucksPerHour', summary.trucksLastHour, view.language), count('queuing', summary.queueLength, view.language)] : [];
  return [...vehicles, ...people].join(' · ');
}

/** Where an alert is, as short as the lane tiles say it ("Thông minh · Xuất 3 · Bắc Luân II"), and the catalog's full names (its title). */
function alertPlace(view: View, alert: Alert): { short: string; full: string } {
  const where = view.sites.find((s) => s.id === alert.site);
  const siteName = named(view, where?.names, alert.site);
  if (alert.lane === null) return { short: shortSiteName(view, alert.site), full: siteName };
  const lane = where?.lanes.find((l) => l.id === alert.lane);
  const label = lane ? laneLabel(view, { lane: lane.id, kind: lane.kind, direction: lane.direction }) : alert.lane;
  return { short: `${label} · ${shortSiteName(view, alert.site)}`, full: `${named(view, lane?.names, alert.lane)} · ${siteName}` };
}

function alertFigures(view: View, alert: Alert): string {
  const { language } = view;
  switch (alert.rule) {
    case 'clearance-over-target':
      return `${formatDuration(alert.value, language)} > ${formatDuration(alert.threshold, language)}`;
    case 'throughput-below-nominal':
      return `${formatNumber(alert.value, language)} < ${count('trucksPerHour', alert.threshold, language)}`;
    case 'queue-over-threshold':
    case 'customs-hold-spike':
      return `${formatNumber(alert.value, language)} ≥ ${formatNumber(alert.threshold, language)}`;
    case 'lane-fault':
      return '';
  }
}

/**
 * The alert cards, compact so that a control-room wall shows several: the severity as icon
 * and word with what happened beside it (wrapping beside the chip), then one running line:
 * how long ago it was raised (at `now`; main.ts draws them again every few seconds; the time
 * of day is the age's title), where (short, the full names as its title) with its figures,
 * and who acknowledged it (the operator's display name; the token id for an alert stored
 * before names were recorded). An alert nobody acknowledged yet is tinted with its
 * severity's colour.
 */
export function alertItems(list: readonly Alert[], view: View, now: number): HTMLElement[] {
  const t = (key: MessageKey) => text(view, key);
  if (list.length === 0) return [h('li', { class: 'empty' }, t('alerts.none'))];
  return list.map((alert) => {
    const state =
      alert.state === 'cleared'
        ? `${t('alerts.cleared')} ${clockTime(view, alert.clearedAt ?? 0)}`
        : alert.state === 'acknowledged'
          ? `${t('alerts.acknowledgedBy')} ${alert.acknowledgedByName ?? alert.acknowledgedBy ?? ''} ${clockTime(view, alert.acknowledgedAt ?? 0)}`
          : '';
    const failed = view.failedAcknowledgements.has(alert.id) ? ` · ${t('alerts.failed')}` : '';
    const place = alertPlace(view, alert);
    return h(
      'li',
      { data: { alert: alert.id, rule: alert.rule, lane: alert.lane ?? '', state: alert.state, severity: alert.severity, ...(alert.state === 'active' ? { status: severityColour[alert.severity] } : {}) } },
      h('div', { class: 'head' }, chip(severityColour[alert.severity], severityIcons[alert.severity], t(`severity.${alert.severity}`)), h('span', { class: 'what' }, t(`rule.${alert.rule}`))),
      h(
        'div',
        { class: 'when' },
        h('span', { class: 'age', attrs: { title: clockTime(view, alert.raisedAt) } }, ago(now - alert.raisedAt, view.language)),
        ' · ',
        h('span', { class: 'where', attrs: { title: place.full } }, [place.short, alertFigures(view, alert)].filter(Boolean).join(' ')),
        `${state ? ` · ${state}` : ''}${failed}`,
      ),
      view.role === 'operator' && alert.state === 'active' && h('button', { attrs: { type: 'button' }, data: { acknowledge: alert.id } }, t('alerts.acknowledge')),
    );
  });
}

/** The alerts that did not fit, counted in the panel's title: "+3 more alerts" (nothing when none). */
export function moreAlerts(hidden: number, view: View): string {
  return hidden === 0 ? '' : count('moreAlerts', hidden, view.language);
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
