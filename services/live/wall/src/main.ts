import type { Site } from '@tower/shared';
import type { SlotAvailability, ThroughputTick } from '@tower/shared';
import type { ThroughputSnapshotData } from '../../src/domain/protocol.ts';
import { ThroughputChart } from './chart.ts';
import { count, hourMinute, isLanguage, languages, locales, type Language, type MessageKey } from './i18n.ts';
import { LiveClient, type ConnectionState } from './live-client.ts';
import { fitFirst, paginate } from './fit.ts';
import { h } from '@tower/shared/web/dom';
import { cssProperties } from './palette.ts';
import { alertItems, connectionIcons, fill, kpiTiles, laneGroupHeader, laneTile, moreAlerts, named, slotItems, text, type View } from './render.ts';
import { fitLabels, schematicHeightRem, siteSchematic, zoneSchematic } from './schematic.ts';
import { AlertChime, AlertPanel, LaneGrid, SlotUtilisation, ThroughputChartModel, laneGroups, nextInRotation, provisionalMarkMs, type Alert, type KpisNow, type LaneGroup, type LaneNow } from './state.ts';
import { Chime, type SoundState } from './sound.ts';
import '@tower/shared/web/fonts';
import './style.css';

/**
 * The Smart Operations Center wall. Kiosk mode is the URL: `?token=` (a display token,
 * kept in the tab's session storage and taken out of the address bar), `site=` (a site
 * id; the whole zone without it), `rotate=` (seconds between sites, 0 = no rotation),
 * `lang=vi|en|zh`, `sound=1` (a chime for each new critical alert; off without it).
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
/** The chime, only with `sound=1`: at most one tone every 5 s however many alerts arrive. */
const chimeGapMs = 5_000;
const alertChime = params.get('sound') === '1' ? new AlertChime(chimeGapMs) : undefined;
let chime: Chime | undefined;
let sound: SoundState | undefined;
/** Slot windows shown: the current one and the next (2 hours of 30-minute windows). */
const slotWindowsShown = 4;
/** Operators may acknowledge; displays only show. */
let role: string | undefined;
/** The gateway refused the token (401/403): nothing will load until the page gets another. */
let tokenRefused = false;
const failedAcknowledgements = new Set<string>();
let sites: Site[] = [];

/** Every HTTP read and write of the operators' API carries the wall's token. */
const authorized = { headers: { authorization: `Bearer ${token}` } };
const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** What the panels are drawn for, as things stand. */
const view = (): View => ({ language, sites, role, failedAcknowledgements });
const t = (key: MessageKey) => text(view(), key);

const timeOfDay = (seconds: number) => hourMinute(seconds * 1000, language);
const chartLabels = () => ({ trucks: t('chart.trucks'), containers: t('chart.containers') });
const chart = new ThroughputChart(element('chart'), chartLabels(), timeOfDay);

function renderClock(): void {
  const now = new Date();
  const format = new Intl.DateTimeFormat(locales[language], { timeZone: 'Asia/Ho_Chi_Minh', weekday: 'short', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const clock = element('clock');
  clock.textContent = `${format.format(now)} (GMT+7)`;
  clock.setAttribute('datetime', now.toISOString());
}

function renderStatic(): void {
  document.documentElement.lang = language;
  renderClock();
  document.title = `${t('title')} – Móng Cái`;
  for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = t(node.dataset['i18n'] as MessageKey);
  for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset['lang'] === language));
  const current = sites.find((s) => s.id === site);
  element('place-name').textContent = current ? named(view(), current.names, current.id) : t('zone');
  chart.relabel(chartLabels());
  renderConnection();
}

function renderConnection(): void {
  const badge = element('connection');
  badge.dataset['state'] = connection;
  badge.textContent = `${connectionIcons[connection]} ${t(`state.${connection}`)}`;
  const banner = element('banner');
  banner.hidden = connection !== 'lost' && token !== null && !tokenRefused;
  banner.textContent = token === null ? t('banner.token') : tokenRefused ? t('banner.refused') : t('banner.lost');
}

function renderKpis(): void {
  if (kpis) fill(element('kpis'), kpiTiles(kpis, view()));
}

/** Seconds each page of lanes stays on screen when they do not fit on one. */
const lanePageSeconds = 10;
let lanePage = 0;
let lanesFrame = 0;

/** The lane grid, grouped by site, the lanes not open first; paged on a timer when it does not fit. */
function renderLanes(): void {
  if (lanesFrame) return;
  lanesFrame = requestAnimationFrame(() => {
    lanesFrame = 0;
    const v = view();
    const container = element('lanes');
    const entries = laneGroups(lanes.ofSite(site), sites).flatMap((group) => [
      { group, node: laneGroupHeader(group, v, false), heading: true },
      ...group.lanes.map((lane) => ({ group, node: laneTile(lane, v), heading: false })),
    ]);
    const continued = (group: LaneGroup) => [laneGroupHeader(group, v, true)];
    const pages = paginate(container, entries, (entry) => (entry.heading ? [] : continued(entry.group)), (entry) => !entry.heading);
    lanePage %= Math.max(1, pages.length);
    const page = pages[lanePage];
    fill(container, page ? [...page.lead, ...page.items.map((entry) => entry.node)] : [h('li', { class: 'empty' }, t('lanes.none'))]);
    const indicator = element('lanes-page');
    indicator.hidden = pages.length < 2;
    indicator.textContent = `${t('lanes.page')} ${lanePage + 1}/${pages.length}`;
    container.dataset['pages'] = String(pages.length);
    container.dataset['page'] = String(lanePage);
    container.dataset['laidOutFor'] = screenSize();
  });
}

let zoneFrame = 0;

/** The screen size and language a panel was last laid out for (`data-laid-out-for`): drawn a frame after a change, so tests wait for it. */
const screenSize = () => `${innerWidth}x${innerHeight}/${language}`;

/** The schematic: the zone's crossings along the border, or the site on screen as its lanes and zones. */
function renderZone(): void {
  if (zoneFrame) return;
  zoneFrame = requestAnimationFrame(() => {
    zoneFrame = 0;
    const box = element('zone');
    const size = { width: box.clientWidth - parseFloat(getComputedStyle(box).paddingLeft) - parseFloat(getComputedStyle(box).paddingRight), rem: parseFloat(getComputedStyle(document.documentElement).fontSize) };
    const current = sites.find((s) => s.id === site);
    const drawing = current ? siteSchematic(current, lanes, view(), size) : zoneSchematic(sites, lanes, view(), size);
    fill(box, [drawing]);
    fitLabels(drawing);
    box.dataset['laidOutFor'] = screenSize();
  });
}

function renderAlerts(): void {
  const v = view();
  const container = element('alerts');
  const items = alertItems(alerts.list(), v, Date.now());
  // The count of the alerts that do not fit sits in the panel's title, not on a row of the list. Measured under the
  // widest count first: should the title wrap in a narrow panel, the list is already measured under it.
  const more = element('alerts-more');
  const count = (hidden: number) => {
    more.textContent = moreAlerts(hidden, v);
    more.hidden = hidden === 0;
  };
  count(items.length);
  const hidden = fitFirst(container, items);
  count(hidden);
  container.dataset['hidden'] = String(hidden);
  renderSound();
}

/** The marker that tells the room the chime is armed (or that the browser blocks it until a click). */
function renderSound(): void {
  const marker = element('alerts-sound');
  marker.hidden = sound === undefined;
  if (sound === undefined) return;
  marker.dataset['state'] = sound;
  marker.dataset['played'] = String(chime?.played ?? 0);
  marker.textContent = `♪ ${t(sound === 'on' ? 'alerts.sound' : 'alerts.soundBlocked')}`;
}

function renderSlots(): void {
  fitFirst(element('slots'), slotItems(slots.upcoming(site, Date.now(), slotWindowsShown), view()));
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
    markProvisional();
  });
}

/** The chart heading's small mark while the chart draws figures not yet stored (re-checked once it may go). */
let provisionalTimer: ReturnType<typeof setTimeout> | undefined;
function markProvisional(): void {
  const provisional = chartModel.provisional(Date.now());
  element('chart-provisional').hidden = !provisional;
  clearTimeout(provisionalTimer);
  if (provisional) provisionalTimer = setTimeout(markProvisional, provisionalMarkMs);
}

function renderAll(): void {
  renderStatic();
  renderKpis();
  renderLanes();
  renderZone();
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
      alertChime?.snapshot((data as { alerts: Alert[] }).alerts);
      renderAlerts();
    },
    onDelta: (data) => {
      alerts.apply(data as Alert);
      if (alertChime?.delta(data as Alert, Date.now())) chime?.play();
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
// A crossing on the schematic shows that site; the site's own schematic goes back to the zone.
element('zone').addEventListener('click', (event) => {
  if (site !== null) return show(null);
  const crossing = (event.target as Element).closest('[data-site]');
  if (crossing) show(crossing.getAttribute('data-site'));
});

async function start(): Promise<void> {
  for (const [name, value] of Object.entries(cssProperties())) document.documentElement.style.setProperty(name, value);
  // The schematic's strip has its height before it is drawn, so the panels under it are laid out once.
  document.documentElement.style.setProperty('--schematic-height', `${schematicHeightRem}rem`);
  renderClock();
  setInterval(renderClock, 1000);
  if (alertChime)
    chime = new Chime((state) => {
      sound = state;
      renderSound();
    });
  renderAll();
  if (token === null) return;
  // The catalog (names in three languages); retried until the gateway answers.
  for (let attempt = 0; sites.length === 0; attempt += 1) {
    try {
      const response = await fetch('/v1/sites', authorized);
      if (response.status === 401 || response.status === 403) {
        tokenRefused = true;
        renderConnection();
        return;
      }
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
      renderZone();
    },
    onDelta: (data) => {
      lanes.apply(data as LaneNow);
      renderLanes();
      renderZone();
    },
  });
  followSite();
  client.start();
  renderAll();
  // The chart's minutes, the slot windows and the alerts' ages move on even when nothing arrives.
  setInterval(() => {
    renderChart();
    renderSlots();
    renderAlerts();
  }, 15_000);
  setInterval(() => {
    lanePage += 1;
    renderLanes();
  }, lanePageSeconds * 1000);
  // A panel of a new size lays its list out again (what fits changes): a new screen, or the KPI row taking another line.
  const resized = new ResizeObserver(() => {
    renderZone();
    renderLanes();
    renderAlerts();
    renderSlots();
  });
  for (const id of ['zone', 'lanes', 'alerts', 'slots']) resized.observe(element(id));
  if (rotateSeconds > 0) {
    let left = rotateSeconds;
    setInterval(() => {
      left -= 1;
      const rotation = element('rotation');
      rotation.hidden = false;
      rotation.textContent = `${t('rotation.next')} ${count('seconds', left, language)}`;
      if (left <= 0) {
        left = rotateSeconds;
        show(nextInRotation(site, sites.map((s) => s.id)));
      }
    }, 1000);
  }
}

void start();
export { languages };
