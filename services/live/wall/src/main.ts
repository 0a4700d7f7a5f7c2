import type { Site } from '@tower/shared';
import type { SlotAvailability, ThroughputTick } from '@tower/shared';
import type { ThroughputSnapshotData } from '../../src/domain/protocol.ts';
import { ThroughputChart } from './chart.ts';
import { dictionaries, formatDuration, formatNumber, isLanguage, languages, locales, type Language, type MessageKey } from './i18n.ts';
import { LiveClient, type ConnectionState } from './live-client.ts';
import { AlertPanel, LaneGrid, SlotUtilisation, ThroughputChartModel, nextInRotation, type Alert, type KpisNow, type LaneNow } from './state.ts';
import './style.css';

/**
 * The Smart Operations Center wall. Kiosk mode is the URL: `?token=` (a display token,
 * kept in the tab's session storage and taken out of the address bar), `site=` (a site
 * id; the whole zone without it), `rotate=` (seconds between sites, 0 = no rotation),
 * `lang=vi|en|zh`.
 */
const params = new URLSearchParams(location.search);
const token = params.get('token') ?? sessionStorage.getItem('tower.token');
if (params.has('token')) {
  sessionStorage.setItem('tower.token', params.get('token')!);
  params.delete('token');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
}
let language: Language = isLanguage(params.get('lang')) ? (params.get('lang') as Language) : isLanguage(localStorage.getItem('tower.lang')) ? (localStorage.getItem('tower.lang') as Language) : 'vi';
const rotateSeconds = Math.max(0, Number(params.get('rotate') ?? 0) || 0);
let site: string | null = params.get('site');
let connection: ConnectionState = 'connecting';
let kpis: KpisNow | undefined;
const lanes = new LaneGrid();
const chartModel = new ThroughputChartModel();
const alerts = new AlertPanel();
const slots = new SlotUtilisation();
/** Slot windows shown: the current one and the next (2 hours of 30-minute windows). */
const slotWindowsShown = 4;
/** Operators may acknowledge; displays only show. */
let role: string | undefined;
const failedAcknowledgements = new Set<string>();
let sites: Site[] = [];

/** Every HTTP read and write of the operators' API carries the wall's token. */
const authorized = { headers: { authorization: `Bearer ${token}` } };
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const t = (key: MessageKey) => dictionaries[language][key];
const named = (names: Record<string, string> | undefined, fallback: string) => names?.[language] ?? names?.['vi'] ?? fallback;

const timeOfDay = (seconds: number) => new Intl.DateTimeFormat(locales[language], { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false }).format(seconds * 1000);
const chart = new ThroughputChart(element('chart'), { trucks: t('chart.trucks'), containers: t('chart.containers') }, timeOfDay);

function renderClock(): void {
  const now = new Date();
  const format = new Intl.DateTimeFormat(locales[language], { timeZone: 'Asia/Ho_Chi_Minh', weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const clock = element('clock');
  clock.textContent = `${format.format(now)} (GMT+7)`;
  clock.setAttribute('datetime', now.toISOString());
}

function renderStatic(): void {
  document.documentElement.lang = language;
  document.title = `${t('title')} – Móng Cái`;
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = t(node.dataset['i18n'] as MessageKey);
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset['lang'] === language));
  const current = sites.find((s) => s.id === site);
  element('place-name').textContent = current ? named(current.names, current.id) : t('zone');
  chart.relabel({ trucks: t('chart.trucks'), containers: t('chart.containers') });
  renderConnection();
}

function renderConnection(): void {
  const badge = element('connection');
  badge.dataset['state'] = connection;
  badge.textContent = t(`state.${connection}`);
  const banner = element('banner');
  banner.hidden = connection !== 'lost' && token !== null;
  banner.textContent = token === null ? t('banner.token') : t('banner.lost');
}

function tile(key: string, label: string, value: string, note = '', verdict: 'good' | 'bad' | '' = ''): string {
  return `<div class="tile ${verdict}" data-kpi="${key}"><div class="label">${label}</div><div class="value">${value}</div><div class="note">${note}</div></div>`;
}

function renderKpis(): void {
  if (!kpis) return;
  const hour = kpis.lastHour;
  const target = kpis.clearance.targetMs;
  const verdict = kpis.clearance.withinTarget === null ? '' : kpis.clearance.withinTarget ? 'good' : 'bad';
  element('kpis').innerHTML = [
    tile('trucksPerHour', t('kpi.trucksPerHour'), formatNumber(hour.trucksCrossed, language)),
    tile('teuPerHour', t('kpi.teuPerHour'), formatNumber(hour.teuMoved, language, 1)),
    tile('tonnesToday', t('kpi.tonnesToday'), formatNumber(kpis.today.tonnes, language, 1)),
    tile('clearance', t('kpi.clearance'), `${formatDuration(hour.clearanceP50Ms, language)} / ${formatDuration(kpis.clearance.p95Ms, language)}`, `${t('kpi.target')} ≤ ${formatDuration(target, language)}`, verdict),
    tile('turnaround', t('kpi.turnaround'), formatDuration(hour.turnaroundP50Ms, language)),
    tile('queue', t('kpi.queue'), formatNumber(kpis.queueLength, language)),
    tile('lanesOpen', t('kpi.lanesOpen'), `${kpis.lanesOpen} / ${kpis.lanesTotal}`),
  ].join('');
}

function laneName(lane: LaneNow): string {
  const known = sites.find((s) => s.id === lane.site)?.lanes.find((l) => l.id === lane.lane);
  return named(known?.names, lane.lane);
}

function renderLanes(): void {
  element('lanes').innerHTML = lanes
    .ofSite(site)
    .map(
      (lane) => `<li data-lane="${lane.lane}" data-status="${lane.status}">
        <div class="name">${laneName(lane)}</div>
        <div class="state">${t(`status.${lane.status}`)} · ${t(`direction.${lane.direction}`)}</div>
        <div class="figures">${formatNumber(lane.lastHour.trucksCrossed, language)} ${t('lane.lastHour')} · ${lane.queueLength === null ? t('noData') : formatNumber(lane.queueLength, language)} ${t('lane.queue')}</div>
      </li>`,
    )
    .join('');
}

function renderSites(): void {
  element('sites').innerHTML = sites
    .map((s) => {
      const summary = lanes.summary(s.id);
      return `<li data-site="${s.id}" data-status="${summary.worst}" aria-current="${s.id === site}">
        <span class="mark"></span>
        <div><div class="name">${named(s.names, s.id)}</div>
        <div class="figures">${summary.lanesOpen}/${summary.lanesTotal} ${t('site.lanes')} · ${formatNumber(summary.trucksLastHour, language)} ${t('site.trucks')} · ${formatNumber(summary.queueLength, language)} ${t('site.queue')}</div></div>
      </li>`;
    })
    .join('');
}

const clockTime = (ms: number) => new Intl.DateTimeFormat(locales[language], { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false }).format(ms);

function alertPlace(alert: Alert): string {
  const where = sites.find((s) => s.id === alert.site);
  const siteName = named(where?.names, alert.site);
  if (alert.lane === null) return siteName;
  return `${named(where?.lanes.find((l) => l.id === alert.lane)?.names, alert.lane)} · ${siteName}`;
}

function alertFigures(alert: Alert): string {
  switch (alert.rule) {
    case 'clearance-over-target':
      return `${formatDuration(alert.value, language)} > ${formatDuration(alert.threshold, language)}`;
    case 'throughput-below-nominal':
      return `${formatNumber(alert.value, language)} < ${formatNumber(alert.threshold, language)} ${t('lane.lastHour')}`;
    case 'queue-over-threshold':
    case 'customs-hold-spike':
      return `${formatNumber(alert.value, language)} ≥ ${formatNumber(alert.threshold, language)}`;
    case 'lane-fault':
      return '';
  }
}

function renderAlerts(): void {
  const list = alerts.list();
  element('alerts').innerHTML =
    list.length === 0
      ? `<li class="empty">${t('alerts.none')}</li>`
      : list
          .map((alert) => {
            const state =
              alert.state === 'cleared'
                ? `${t('alerts.cleared')} ${clockTime(alert.clearedAt ?? 0)}`
                : alert.state === 'acknowledged'
                  ? `${t('alerts.acknowledgedBy')} ${alert.acknowledgedBy ?? ''} ${clockTime(alert.acknowledgedAt ?? 0)}`
                  : '';
            const button = role === 'operator' && alert.state === 'active' ? `<button type="button" data-acknowledge="${alert.id}">${t('alerts.acknowledge')}</button>` : '';
            const failed = failedAcknowledgements.has(alert.id) ? ` · ${t('alerts.failed')}` : '';
            return `<li data-alert="${alert.id}" data-rule="${alert.rule}" data-lane="${alert.lane ?? ''}" data-state="${alert.state}" data-severity="${alert.severity}">
              <div class="what">${t(`rule.${alert.rule}`)}</div>
              <div>${alertPlace(alert)} ${alertFigures(alert)}</div>
              <div class="when">${clockTime(alert.raisedAt)}${state ? ` · ${state}` : ''}${failed}</div>${button}
            </li>`;
          })
          .join('');
}

/** A share as a percentage: one decimal under 10 % (a few bookings of hundreds of places still show). */
const percent = (share: number) => `${formatNumber(share * 100, language, share < 0.1 ? 1 : 0)}%`;

function renderSlots(): void {
  const upcoming = slots.upcoming(site, Date.now(), slotWindowsShown);
  element('slots').innerHTML =
    upcoming.length === 0
      ? `<li class="empty">${t('slots.none')}</li>`
      : upcoming
          .map((use) => {
            const part = (n: number) => (use.capacity === 0 ? 0 : (100 * n) / use.capacity).toFixed(1);
            const closed = use.closedGroups > 0 ? ` · ${use.closedGroups} ${t('slots.closed')}` : '';
            return `<li data-window="${use.windowStart}" data-full="${use.utilisation >= 1}">
              <span class="when">${clockTime(use.windowStart)}–${clockTime(use.windowEnd)}</span>
              <span class="bar" role="img" aria-label="${percent(use.utilisation)}"><span class="booked" style="width:${part(use.booked)}%"></span><span class="held" style="width:${part(use.held)}%"></span></span>
              <span class="figures">${formatNumber(use.booked, language)} ${t('slots.booked')} · ${formatNumber(use.held, language)} ${t('slots.held')} / ${formatNumber(use.capacity, language)} (${percent(use.utilisation)})${closed}</span>
            </li>`;
          })
          .join('');
}

let chartFrame = 0;
function renderChart(): void {
  if (chartFrame) return;
  chartFrame = requestAnimationFrame(() => {
    chartFrame = 0;
    const series = chartModel.series(Date.now());
    chart.setData(series);
    // What the chart shows, readable without the canvas (tests, screen readers' summary).
    element('chart').dataset['trucks'] = String(series[1].reduce((sum, n) => sum + n, 0));
  });
}

function renderAll(): void {
  renderStatic();
  renderKpis();
  renderLanes();
  renderSites();
  renderAlerts();
  renderSlots();
  renderChart();
}

const client = new LiveClient({
  openSocket: () => new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/live`, ['tower.live.v1', `token.${token}`]),
  onState: (state) => {
    connection = state;
    renderConnection();
  },
});

/** The subscriptions that follow the site on screen (replaced, same ids, when it changes). */
function followSite(): void {
  const filter = site === null ? {} : { site };
  client.subscribe({
    id: 'tiles',
    channel: 'kpis',
    filter,
    onSnapshot: (data) => {
      kpis = data as KpisNow;
      renderKpis();
    },
    onDelta: (data) => {
      kpis = data as KpisNow;
      renderKpis();
    },
  });
  client.subscribe({
    id: 'alerts',
    channel: 'alerts',
    filter,
    onSnapshot: (data) => {
      alerts.reset((data as { alerts: Alert[] }).alerts);
      renderAlerts();
    },
    onDelta: (data) => {
      alerts.apply(data as Alert);
      renderAlerts();
    },
  });
  client.subscribe({
    id: 'flow',
    channel: 'throughput',
    filter,
    onSnapshot: (data) => {
      chartModel.reset(data as ThroughputSnapshotData);
      renderChart();
    },
    onDelta: (data) => {
      chartModel.apply(data as ThroughputTick);
      renderChart();
    },
  });
}

function show(next: string | null): void {
  site = next;
  const url = new URLSearchParams(location.search);
  if (site === null) url.delete('site');
  else url.set('site', site);
  history.replaceState(null, '', `${location.pathname}${url.size ? `?${url}` : ''}`);
  kpis = undefined;
  followSite();
  renderAll();
}

document.querySelector('.languages')!.addEventListener('click', (event) => {
  const lang = (event.target as HTMLElement).dataset['lang'];
  if (!isLanguage(lang)) return;
  language = lang;
  localStorage.setItem('tower.lang', language);
  renderAll();
});
element('alerts').addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-acknowledge]');
  if (!button) return;
  const id = button.dataset['acknowledge']!;
  button.disabled = true;
  void fetch(`/v1/alerts/${encodeURIComponent(id)}/acknowledge`, { method: 'POST', ...authorized })
    .then(async (response) => {
      if (!response.ok) throw new Error(`${response.status}`);
      failedAcknowledgements.delete(id);
      alerts.apply((await response.json()) as Alert);
    })
    .catch(() => failedAcknowledgements.add(id))
    .finally(renderAlerts);
});
element('sites').addEventListener('click', (event) => {
  const item = (event.target as HTMLElement).closest<HTMLElement>('[data-site]');
  if (item) show(item.dataset['site'] === site ? null : item.dataset['site']!);
});

async function start(): Promise<void> {
  renderClock();
  setInterval(renderClock, 1000);
  renderAll();
  if (token === null) return;
  // The catalog (names in three languages); retried until the gateway answers.
  for (let attempt = 0; sites.length === 0; attempt += 1) {
    try {
      const response = await fetch('/v1/sites', authorized);
      if (response.ok) sites = ((await response.json()) as { sites: Site[] }).sites;
    } catch {
      // not up yet
    }
    if (sites.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1000 * 2 ** attempt)));
  }
  if (site !== null && !sites.some((s) => s.id === site)) site = null;
  try {
    const me = await fetch('/v1/access/me', authorized);
    if (me.ok) role = ((await me.json()) as { role: string }).role;
  } catch {
    // shown as a display: no acknowledge buttons
  }
  client.subscribe({
    id: 'slots',
    channel: 'slots',
    filter: {},
    onSnapshot: (data) => {
      slots.reset((data as { windows: SlotAvailability[] }).windows);
      renderSlots();
    },
    onDelta: (data) => {
      slots.apply(data as SlotAvailability);
      renderSlots();
    },
  });
  client.subscribe({
    id: 'grid',
    channel: 'lanes',
    filter: {},
    onSnapshot: (data) => {
      lanes.reset((data as { lanes: LaneNow[] }).lanes);
      renderLanes();
      renderSites();
    },
    onDelta: (data) => {
      lanes.apply(data as LaneNow);
      renderLanes();
      renderSites();
    },
  });
  followSite();
  client.start();
  renderAll();
  // The chart's minutes and the slot windows move on even when nothing arrives.
  setInterval(() => {
    renderChart();
    renderSlots();
  }, 15_000);
  if (rotateSeconds > 0) {
    let left = rotateSeconds;
    setInterval(() => {
      left -= 1;
      const rotation = element('rotation');
      rotation.hidden = false;
      rotation.textContent = `${t('rotation.next')} ${left} s`;
      if (left <= 0) {
        left = rotateSeconds;
        show(nextInRotation(site, sites.map((s) => s.id)));
      }
    }, 1000);
  }
}

void start();
export { languages };
