import { fill, h } from '@tower/shared/web/dom';
import '@tower/shared/web/fonts';
import { LiveClient, type ConnectionState } from '../../../live/wall/src/live-client.ts';
import type { BookingPageConfig } from '../../src/page.ts';
import { ProblemAnswer, SlotsApi, type AvailabilityWindow, type Booking, type DeliveryAttempt, type FirmRecord, type LaneGroupConditions, type Problem, type Truck, type WebhookEndpoint } from './api.ts';
import { isLanguage, locales, translate, type Language, type MessageKey } from './i18n.ts';
import { actionsOf, bookable, clockOf, countdown, dayLabel, filterBookings, laneGroupKey, laneGroups, mergeBookings, nextDays, problemMessage, shortDateTime, shortVietnamTime, webhookEvents, type BookingFilter, type Day } from './model.ts';
import './style.css';

/** The firm's key stays in this tab only (sessionStorage), never in the URL; the language is remembered (localStorage). */
const keyStorage = 'tower.booking.key';
const languageStorage = 'tower.booking.language';
/** Without the live gateway's socket the firm's bookings are read again this often; availability, record and conditions less often. */
const bookingsEveryMs = 3000;
const boardEveryMs = 15_000;
const daysShown = 7;
const cargoClasses = ['farm-produce', 'frozen-seafood', 'electronics', 'consumer-goods', 'machinery', 'textiles', 'solar-cells', 'other'] as const;
const stateFilters = ['active', 'all', 'held', 'confirmed', 'checked-in', 'late', 'completed', 'cancelled', 'expired', 'no-show'] as const;
const stateIcons: Readonly<Record<string, string>> = { held: '◷', confirmed: '✔', 'checked-in': '▶', late: '▲', completed: '✔', cancelled: '✖', expired: '✖', 'no-show': '■' };

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let language: Language = isLanguage(localStorage.getItem(languageStorage)) ? (localStorage.getItem(languageStorage) as Language) : 'vi';
const t = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => translate(language, key, values);

const state = {
  config: undefined as BookingPageConfig | undefined,
  api: undefined as SlotsApi | undefined,
  record: undefined as FirmRecord | undefined,
  site: '',
  group: '',
  day: 0,
  days: [] as Day[],
  windows: [] as AvailabilityWindow[],
  windowsLoaded: false,
  chosen: undefined as AvailabilityWindow | undefined,
  /** undefined: the service has no fleet routes (the plate is typed). */
  fleet: undefined as Truck[] | undefined,
  hold: undefined as Booking | undefined,
  /** The Idempotency-Key of the hold being asked for: a retry after no answer sends the same one. */
  holdKey: undefined as { key: string; of: string } | undefined,
  bookings: new Map<string, Booking>(),
  bookingsShown: '',
  filter: { state: 'active', plate: '' } as BookingFilter,
  conditions: undefined as LaneGroupConditions[] | undefined,
  online: true,
  /** The live gateway's socket (config.liveUrl): the bookings come as they change while it is 'live'. */
  live: undefined as LiveClient | undefined,
  liveState: 'off' as ConnectionState | 'off',
  /** The booking whose cancel button asks "sure?" (a second press cancels). */
  cancelArmed: '',
  webhooks: [] as WebhookEndpoint[],
  /** The endpoint whose delivery log is open, and its last attempts. */
  log: undefined as { id: string; attempts: DeliveryAttempt[] | undefined } | undefined,
  /** The endpoint whose delete button asks "sure?". */
  deleteArmed: '',
};

const timers: ReturnType<typeof setInterval>[] = [];

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `page-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const named = (names: Record<string, string>) => names[language] ?? names['vi'] ?? '';
const siteName = (id: string) => named(state.config?.sites.find((s) => s.id === id)?.names ?? { vi: id });

/** Shows a message in a place; problems in the dispatcher's words. */
function say(element: HTMLElement, text: string, kind: 'error' | 'ok' = 'error'): void {
  element.textContent = text;
  element.className = kind;
  element.hidden = false;
}

function problemOf(error: unknown): Problem {
  if (error instanceof ProblemAnswer) return error.problem;
  return { status: 0, code: 'network', title: String(error), detail: '' };
}

/** A refusal said where it happened; a key no longer valid signs the dispatcher out. */
function refused(element: HTMLElement, error: unknown): void {
  const problem = problemOf(error);
  if (problem.status === 401) return signOut('signin.refused');
  say(element, problemMessage(problem, language));
}

// --- language -------------------------------------------------------------------------

function applyLanguage(): void {
  document.documentElement.lang = language;
  document.title = `${t('title')} – Móng Cái`;
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) element.textContent = t(element.dataset['i18n'] as MessageKey);
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n-label]')) element.setAttribute('aria-label', t(element.dataset['i18nLabel'] as MessageKey));
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) button.setAttribute('aria-pressed', String(button.dataset['lang'] === language));
  byId('filter-plate').setAttribute('placeholder', '14C-123.45');
  fill(byId('cargo'), cargoClasses.map((c) => option(c, t(`cargo.${c}` as MessageKey), (byId<HTMLSelectElement>('cargo').value || 'farm-produce') === c)));
  fill(byId('fleet-country'), (['VN', 'CN'] as const).map((c) => option(c, t(`country.${c}`), byId<HTMLSelectElement>('fleet-country').value === c)));
  renderEventChoices();
  fill(byId('filter-state'), stateFilters.map((s) => option(s, s === 'active' ? t('bookings.active') : s === 'all' ? t('bookings.all') : t(`state.${s}` as MessageKey), state.filter.state === s)));
  if (state.api) renderAll();
}

function option(value: string, text: string, selected = false): HTMLOptionElement {
  const element = h('option', { attrs: { value } }, text);
  element.selected = selected;
  return element;
}

for (const button of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
  button.addEventListener('click', () => {
    const chosen = button.dataset['lang'];
    if (!isLanguage(chosen)) return;
    language = chosen;
    localStorage.setItem(languageStorage, language);
    applyLanguage();
  });
}

// --- sign in and out ----------------------------------------------------------------------

async function signIn(key: string): Promise<void> {
  const api = new SlotsApi(key);
  try {
    state.record = await api.firm();
  } catch (error) {
    const problem = problemOf(error);
    sessionStorage.removeItem(keyStorage);
    showSignIn(problem.status === 401 ? t('signin.refused') : problem.code === 'validation' || problem.status === 403 ? t('signin.notFirm') : problemMessage(problem, language));
    return;
  }
  sessionStorage.setItem(keyStorage, key);
  state.api = api;
  byId('signin').hidden = true;
  byId('desk').hidden = false;
  byId('signout').hidden = false;
  const firm = byId('firm-name');
  firm.textContent = state.record.firm;
  firm.hidden = false;
  state.days = nextDays(Date.now(), daysShown);
  state.site ||= state.config?.sites[0]?.id ?? '';
  renderAll();
  await Promise.all([loadWindows(), loadBookings(), loadFleet(), loadBoard(), loadWebhooks()]);
  followLive(key);
  // Polled only while the socket is not live (no gateway configured, refused, or away).
  timers.push(setInterval(() => state.liveState !== 'live' && void loadBookings(), bookingsEveryMs), setInterval(() => state.log && void loadLog(), bookingsEveryMs), setInterval(() => void Promise.all([loadWindows(), loadBoard(), loadWebhooks()]), boardEveryMs), setInterval(tick, 1000));
}

function showSignIn(error?: string): void {
  byId('signin').hidden = false;
  byId('desk').hidden = true;
  byId('signout').hidden = true;
  byId('firm-name').hidden = true;
  const message = byId('signin-error');
  message.hidden = !error;
  message.textContent = error ?? '';
  byId('signin-key').focus();
}

function signOut(reason?: MessageKey): void {
  for (const timer of timers.splice(0)) clearInterval(timer);
  state.live?.stop();
  state.live = undefined;
  state.liveState = 'off';
  sessionStorage.removeItem(keyStorage);
  state.api = undefined;
  state.bookings = new Map();
  state.bookingsShown = '';
  state.hold = undefined;
  state.chosen = undefined;
  state.webhooks = [];
  state.log = undefined;
  byId('webhook-secret').hidden = true;
  showSignIn(reason ? t(reason) : undefined);
}

byId<HTMLFormElement>('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('signin-key');
  const key = input.value.trim();
  input.value = '';
  void signIn(key);
});
byId('signout').addEventListener('click', () => signOut());

// --- availability -------------------------------------------------------------------------

async function loadWindows(): Promise<void> {
  const api = state.api;
  const day = state.days[state.day];
  if (!api || !day || !state.site) return;
  const site = state.site;
  try {
    const windows = await api.availability(site, day.from, day.to);
    if (site !== state.site || day !== state.days[state.day]) return;
    state.windows = windows;
    state.windowsLoaded = true;
    const groups = laneGroups(windows);
    if (!groups.some((g) => g.key === state.group)) state.group = groups[0]?.key ?? '';
  } catch (error) {
    refused(byId('availability-status'), error);
    return;
  }
  renderAvailability();
}

function renderAvailability(): void {
  fill(byId('site'), (state.config?.sites ?? []).map((s) => option(s.id, named(s.names), s.id === state.site)));
  fill(byId('group'), laneGroups(state.windows).map((g) => option(g.key, `${named(g.names)}`, g.key === state.group)));
  keepingFocus(byId('days'), () =>
    fill(
      byId('days'),
      state.days.map((day, i) => {
        const button = h('button', { class: 'day', data: { focus: `day-${day.date}` }, attrs: { type: 'button', 'aria-pressed': String(i === state.day) } }, dayLabel(day.date, language));
        button.addEventListener('click', () => {
          state.day = i;
          state.windowsLoaded = false;
          renderAvailability();
          void loadWindows();
        });
        return button;
      }),
    ),
  );
  const now = Date.now();
  const shown = state.windows.filter((w) => laneGroupKey(w) === state.group && w.windowEnd > now);
  const status = byId('availability-status');
  status.className = 'hint';
  status.textContent = !state.windowsLoaded ? t('availability.loading') : shown.length === 0 ? t('availability.none') : t('availability.pick');
  keepingFocus(byId('windows'), () => fill(byId('windows'), state.windowsLoaded ? shown.map((w) => windowItem(w, now)) : []));
}

function windowItem(w: AvailabilityWindow, now: number): HTMLLIElement {
  const open = bookable(w, now);
  const places = w.closed ? t(w.closedReason ? (`closed.${w.closedReason}` as MessageKey) : 'availability.closed') : w.free === 0 ? t('availability.full') : String(w.free);
  const chosen = state.chosen?.windowStart === w.windowStart && laneGroupKey(state.chosen) === laneGroupKey(w);
  const button = h(
    'button',
    { class: 'window', data: { focus: `window-${w.windowStart}`, start: w.windowStartIso, state: w.closed ? 'closed' : w.free === 0 ? 'full' : 'open' }, attrs: { type: 'button', 'aria-pressed': String(chosen) } },
    h('span', { class: 'label' }, w.label),
    h('span', { class: 'places' }, places),
  );
  button.disabled = !open;
  button.addEventListener('click', () => choose(w));
  return h('li', {}, button);
}

/** Re-renders a container and gives focus back to the element that had it (by its data-focus), so polling never steals the keyboard. */
function keepingFocus(container: HTMLElement, render: () => void): void {
  const focused = document.activeElement instanceof HTMLElement && container.contains(document.activeElement) ? document.activeElement.dataset['focus'] : undefined;
  render();
  if (focused) container.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
}

byId<HTMLSelectElement>('site').addEventListener('change', (event) => {
  state.site = (event.target as HTMLSelectElement).value;
  state.windowsLoaded = false;
  state.windows = [];
  renderAvailability();
  void loadWindows();
  renderConditions();
});
byId<HTMLSelectElement>('group').addEventListener('change', (event) => {
  state.group = (event.target as HTMLSelectElement).value;
  renderAvailability();
});
byId('availability-refresh').addEventListener('click', () => void loadWindows());

// --- booking: hold, confirm before the hold runs out ----------------------------------------

function choose(w: AvailabilityWindow): void {
  state.chosen = w;
  state.hold = undefined;
  byId('booking-message').hidden = true;
  renderAvailability();
  renderBooking();
  byId('booking').scrollIntoView({ block: 'nearest' });
  (state.fleet === undefined ? byId('plate') : byId('truck')).focus();
}

/** `T2, 30/11 21:00–21:30 · Bắc Luân II … · Xuất` (or the lane group's name when known). */
function windowText(w: { site: string; windowStartIso: string; windowEndIso: string; direction: string }, names?: Record<string, string>): string {
  return `${dayLabel(w.windowStartIso.slice(0, 10), language)} ${clockOf(w.windowStartIso)}–${clockOf(w.windowEndIso)} · ${siteName(w.site)}${names ? ` · ${named(names)}` : ` · ${t(`direction.${w.direction}` as MessageKey)}`}`;
}

/** The booking card: the form while a window is chosen, the hold and its countdown while one runs, and the last outcome (said by `say`). */
function renderBooking(): void {
  const chosen = state.chosen;
  const holding = state.hold !== undefined;
  byId('hold-form').hidden = holding || !chosen;
  byId('hold-panel').hidden = !holding;
  byId('chosen-window').parentElement!.hidden = !chosen;
  byId('booking').hidden = !chosen && !holding && byId('booking-message').hidden;
  if (chosen) byId('chosen-window').textContent = windowText(chosen, chosen.laneGroupNames);
  const fleet = state.fleet;
  const truck = byId<HTMLSelectElement>('truck');
  truck.hidden = fleet === undefined;
  byId('plate').hidden = fleet !== undefined;
  byId('plate').setAttribute('placeholder', '14C-123.45');
  byId('truck').previousElementSibling?.setAttribute('for', fleet === undefined ? 'plate' : 'truck');
  if (fleet) {
    const selected = truck.value;
    fill(truck, [option('', t('book.chooseTruck')), ...fleet.map((tr) => option(tr.plate, `${tr.plate} · ${t(`country.${tr.country}`)}`, tr.plate === selected))]);
  }
  byId('no-fleet').hidden = !(fleet && fleet.length === 0);
  byId<HTMLButtonElement>('hold').disabled = fleet !== undefined && fleet.length === 0;
  if (state.hold) {
    byId('hold-plate').textContent = state.hold.plate;
    byId('hold-until').textContent = t('hold.until', { time: state.hold.heldUntilIso.slice(11, 19) });
    tick();
  }
}

byId<HTMLFormElement>('hold-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void hold();
});

async function hold(): Promise<void> {
  const chosen = state.chosen;
  const api = state.api;
  if (!chosen || !api) return;
  const plate = (state.fleet === undefined ? byId<HTMLInputElement>('plate').value : byId<HTMLSelectElement>('truck').value).trim();
  const message = byId('booking-message');
  if (!plate) {
    say(message, state.fleet === undefined ? `${t('book.plate')}?` : t('book.chooseTruck'));
    return;
  }
  const request = { site: chosen.site, laneKind: chosen.laneKind, direction: chosen.direction as Booking['direction'], windowStart: chosen.windowStart, plate, cargoClass: byId<HTMLSelectElement>('cargo').value as Booking['cargoClass'] };
  const of = JSON.stringify(request);
  if (state.holdKey?.of !== of) state.holdKey = { key: randomKey(), of };
  const button = byId<HTMLButtonElement>('hold');
  button.disabled = true;
  try {
    state.hold = await api.hold(request, state.holdKey.key);
    state.holdKey = undefined;
    message.hidden = true;
    noteBookings([state.hold]);
    renderBooking();
    byId('confirm').focus();
    void loadWindows();
  } catch (error) {
    refused(message, error);
    // The window can no longer be had: the choice goes, the reason stays said.
    if (['window-full', 'window-closed', 'site-under-construction'].includes(problemOf(error).code)) {
      state.chosen = undefined;
      renderBooking();
      renderAvailability();
    }
  } finally {
    button.disabled = false;
  }
}

/** Once a second: the hold's countdown, and the end of a hold not confirmed in time. */
function tick(): void {
  const held = state.hold;
  if (!held) return;
  const left = held.heldUntil - Date.now();
  byId('countdown').textContent = t('hold.left', { left: countdown(left) });
  byId('countdown').dataset['urgent'] = String(left < 60_000);
  if (left > 0) return;
  state.hold = undefined;
  state.chosen = undefined;
  say(byId('booking-message'), t('hold.expired'));
  renderBooking();
  void loadWindows();
}

byId('confirm').addEventListener('click', () => void settle('confirm'));
byId('release').addEventListener('click', () => void settle('cancel'));

/** Confirms or releases the hold of the booking panel. */
async function settle(action: 'confirm' | 'cancel'): Promise<void> {
  const held = state.hold;
  const api = state.api;
  if (!held || !api) return;
  const message = byId('booking-message');
  try {
    const booking = await (action === 'confirm' ? api.confirm(held.id) : api.cancel(held.id));
    noteBookings([booking]);
    state.hold = undefined;
    state.chosen = undefined;
    say(message, action === 'confirm' ? t('hold.confirmed', { plate: booking.plate, window: windowText(booking) }) : t('hold.cancelled', { plate: booking.plate }), 'ok');
    renderBooking();
    renderAvailability();
    void loadWindows();
  } catch (error) {
    refused(message, error);
    if (problemOf(error).code === 'hold-expired' || problemOf(error).code === 'not-held') {
      state.hold = undefined;
      renderBooking();
    }
  }
}

byId('deselect').addEventListener('click', () => {
  state.chosen = undefined;
  byId('booking-message').hidden = true;
  renderBooking();
  renderAvailability();
});

// --- the firm's bookings, live --------------------------------------------------------------

/**
 * The firm's `bookings` stream on the live gateway (docs/live-protocol.md): a snapshot, then
 * each booking's new state as it changes (an operator's cancel, a check-in, a no-show). The
 * key goes in the subprotocol, never the URL. The LiveClient reconnects and resumes by itself.
 */
function followLive(key: string): void {
  const url = state.config?.liveUrl;
  if (!url) return;
  const client = new LiveClient({
    openSocket: () => new WebSocket(url, ['tower.live.v1', `token.${key}`]),
    onState: (connection) => {
      state.liveState = connection;
      renderBookings();
    },
  });
  client.subscribe({
    id: 'bookings',
    channel: 'bookings',
    filter: {},
    onSnapshot: (data) => {
      replaceBookings((data as { bookings: Booking[] }).bookings);
      renderBookings();
    },
    onDelta: (data) => noteBookings([data as Booking]),
  });
  state.live = client;
  client.start();
}

async function loadBookings(): Promise<void> {
  const api = state.api;
  if (!api) return;
  try {
    replaceBookings(await api.bookings());
  } catch (error) {
    if (problemOf(error).status === 401) return signOut('signin.refused');
    state.online = false;
  }
  renderBookings();
}

/** A whole list (an answer, a snapshot) is the truth for what it covers: a booking no longer in it (out of its range) is dropped. */
function replaceBookings(bookings: readonly Booking[]): void {
  state.bookings = mergeBookings(new Map([...state.bookings].filter(([id]) => bookings.some((b) => b.id === id))), bookings);
  state.online = true;
}

function noteBookings(bookings: readonly Booking[]): void {
  state.bookings = mergeBookings(state.bookings, bookings);
  renderBookings();
}

function renderBookings(): void {
  const live = byId('live');
  const how = state.liveState === 'live' ? 'live' : state.online ? 'polling' : 'lost';
  live.dataset['state'] = how;
  live.textContent = how === 'live' ? `● ${t('bookings.live')}` : how === 'polling' ? `◌ ${t('bookings.polling')}` : `○ ${t('bookings.stale')}`;
  const now = Date.now();
  const shown = filterBookings([...state.bookings.values()], state.filter);
  // Redrawn only when something shown changed (a poll with no news leaves the list and its focus alone).
  const signature = JSON.stringify([language, how, state.cancelArmed, shown.map((b) => [b.id, b.state, b.updatedAt, actionsOf(b, now, state.config?.cancelCutoffMs ?? 0)])]);
  if (signature === state.bookingsShown) return;
  state.bookingsShown = signature;
  keepingFocus(byId('booking-list'), () => fill(byId('booking-list'), shown.length === 0 ? [h('li', { class: 'empty' }, t('bookings.none'))] : shown.map((b) => bookingItem(b, now))));
}

function bookingItem(b: Booking, now: number): HTMLLIElement {
  const actions = actionsOf(b, now, state.config?.cancelCutoffMs ?? 0);
  const notes: string[] = [];
  if (b.cancelledBy === 'operator') notes.push(t('bookings.byOperator'));
  if (b.arrivedAtIso) notes.push(t('bookings.arrived', { time: shortDateTime(b.arrivedAtIso) }));
  if (b.state === 'held') notes.push(t('hold.until', { time: clockOf(b.heldUntilIso) }));
  if (b.state === 'confirmed' && actions.cancel && state.config) notes.push(t('bookings.cutoff', { time: shortVietnamTime(b.windowStart - state.config.cancelCutoffMs) }));
  const buttons: HTMLButtonElement[] = [];
  if (actions.confirm) buttons.push(actionButton(b, 'confirm', t('bookings.confirm'), async (api) => api.confirm(b.id)));
  if (actions.cancel) {
    const armed = state.cancelArmed === b.id;
    buttons.push(
      actionButton(b, 'cancel', armed ? `${t('bookings.cancel')}?` : t('bookings.cancel'), async (api) => {
        if (!armed) {
          state.cancelArmed = b.id;
          renderBookings();
          return undefined;
        }
        state.cancelArmed = '';
        return api.cancel(b.id);
      }),
    );
  }
  return h(
    'li',
    { class: 'booking', data: { id: b.id, state: b.state } },
    h('div', { class: 'when' }, h('strong', {}, `${dayLabel(b.windowStartIso.slice(0, 10), language)} ${clockOf(b.windowStartIso)}–${clockOf(b.windowEndIso)}`), h('span', {}, `${siteName(b.site)} · ${t(`direction.${b.direction}` as MessageKey)}`)),
    h('div', { class: 'what' }, h('strong', { class: 'plate' }, b.plate), h('span', {}, t(`cargo.${b.cargoClass}` as MessageKey))),
    h('div', { class: 'state' }, h('span', { class: 'badge', data: { state: b.state } }, `${stateIcons[b.state] ?? ''} ${t(`state.${b.state}` as MessageKey)}`), notes.length > 0 && h('span', { class: 'note' }, notes.join(' · '))),
    h('div', { class: 'actions' }, ...buttons),
  );
}

function actionButton(b: Booking, name: string, text: string, run: (api: SlotsApi) => Promise<Booking | undefined>): HTMLButtonElement {
  const button = h('button', { class: name === 'confirm' ? 'primary' : 'quiet', data: { focus: `${name}-${b.id}`, action: name }, attrs: { type: 'button' } }, text);
  button.addEventListener('click', async () => {
    const api = state.api;
    if (!api) return;
    const message = byId('bookings-message');
    message.hidden = true;
    try {
      const changed = await run(api);
      if (changed) {
        noteBookings([changed]);
        if (state.hold?.id === changed.id) {
          state.hold = undefined;
          renderBooking();
        }
        void loadWindows();
      }
    } catch (error) {
      refused(message, error);
    }
  });
  return button;
}

byId<HTMLSelectElement>('filter-state').addEventListener('change', (event) => {
  state.filter = { ...state.filter, state: (event.target as HTMLSelectElement).value };
  renderBookings();
});
byId<HTMLInputElement>('filter-plate').addEventListener('input', (event) => {
  state.filter = { ...state.filter, plate: (event.target as HTMLInputElement).value };
  renderBookings();
});

// --- the firm's record and the gate's conditions --------------------------------------------

async function loadBoard(): Promise<void> {
  const api = state.api;
  if (!api) return;
  const [record, conditions] = await Promise.allSettled([api.firm(), api.conditions()]);
  if (record.status === 'fulfilled') state.record = record.value;
  if (conditions.status === 'fulfilled') state.conditions = conditions.value;
  renderRecord();
  renderConditions();
}

function renderRecord(): void {
  const r = state.record;
  if (!r) return;
  const rate = new Intl.NumberFormat(locales[language], { style: 'percent', maximumFractionDigits: 1 }).format(r.noShowRate);
  byId('record').replaceWith(figures('record', [['record.arrivals', String(r.decided - r.noShows)], ['record.noShows', String(r.noShows)], ['record.rate', rate], ['record.cap', String(r.capPerWindow)]]));
}

/** Figures as a description list: each label and value in a pair of their own (a grid of pairs). */
function figures(id: string, pairs: readonly (readonly [MessageKey, string])[]): HTMLDListElement {
  return h('dl', { class: 'figures', attrs: id ? { id } : {} }, ...pairs.map(([key, value]) => h('div', { data: { figure: key } }, h('dt', {}, t(key)), h('dd', {}, value))));
}

function renderConditions(): void {
  const mine = new Set([...state.bookings.values()].filter((b) => b.state === 'held' || b.state === 'confirmed').map((b) => `${b.site}|${laneGroupKey(b)}`));
  const groups = (state.conditions ?? []).filter((g) => g.site === state.site || mine.has(`${g.site}|${laneGroupKey(g)}`));
  const minutes = (n: number | null) => (n === null ? t('conditions.unknown') : t('conditions.minutes', { n }));
  fill(
    byId('conditions'),
    groups.length === 0
      ? [h('li', { class: 'empty' }, t('conditions.none'))]
      : groups.map((g) =>
          h(
            'li',
            { class: 'condition', data: { level: g.level } },
            h('div', { class: 'name' }, h('strong', {}, named(g.names)), h('span', {}, named(g.siteNames))),
            h('span', { class: 'badge', data: { level: g.level } }, t(`level.${g.level}` as MessageKey)),
            figures('', [['conditions.queue', g.trucksQueuing === null ? t('conditions.unknown') : String(g.trucksQueuing)], ['conditions.wait', minutes(g.expectedWaitMinutes)], ['conditions.lanes', `${g.lanesOpen}/${g.lanesTotal}`]]),
          ),
        ),
  );
}

// --- the fleet ----------------------------------------------------------------------------

async function loadFleet(): Promise<void> {
  const api = state.api;
  if (!api) return;
  try {
    state.fleet = await api.trucks();
  } catch (error) {
    refused(byId('fleet-message'), error);
  }
  renderFleet();
  renderBooking();
}

function renderFleet(): void {
  const fleet = state.fleet;
  byId('fleet-form').hidden = fleet === undefined;
  if (fleet === undefined) {
    fill(byId('fleet-list'), [h('li', { class: 'empty' }, t('fleet.unavailable'))]);
    return;
  }
  keepingFocus(byId('fleet-list'), () =>
    fill(
      byId('fleet-list'),
      fleet.length === 0
        ? [h('li', { class: 'empty' }, t('fleet.none'))]
        : fleet.map((truck) => {
            const remove = h('button', { class: 'quiet', data: { focus: `remove-${truck.plate}` }, attrs: { type: 'button', 'aria-label': `${t('fleet.remove')} ${truck.plate}` } }, t('fleet.remove'));
            remove.addEventListener('click', async () => {
              try {
                await state.api?.unregister(truck.plate);
                byId('fleet-message').hidden = true;
                await loadFleet();
              } catch (error) {
                refused(byId('fleet-message'), error);
              }
            });
            return h('li', { data: { plate: truck.plate } }, h('strong', { class: 'plate' }, truck.plate), h('span', {}, t(`country.${truck.country}`)), remove);
          }),
    ),
  );
}

byId<HTMLFormElement>('fleet-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('fleet-plate');
  const plate = input.value.trim();
  const message = byId('fleet-message');
  try {
    const truck = await state.api?.register({ plate, country: byId<HTMLSelectElement>('fleet-country').value as Truck['country'] });
    input.value = '';
    say(message, t('fleet.added', { plate: truck?.plate ?? plate }), 'ok');
    await loadFleet();
  } catch (error) {
    refused(message, error);
  }
});

// --- webhooks -------------------------------------------------------------------------------

/** The event checkboxes, in the page's language (what was ticked stays ticked). */
function renderEventChoices(): void {
  const ticked = new Set([...document.querySelectorAll<HTMLInputElement>('#webhook-events input:checked')].map((box) => box.value));
  const first = document.querySelector('#webhook-events input') === null;
  const legend = byId('webhook-events').querySelector('legend')!;
  fill(
    byId('webhook-events'),
    [legend, ...webhookEvents.map((event) => {
      const box = h('input', { attrs: { type: 'checkbox', name: 'event', value: event } });
      box.checked = first ? event === 'booking.state-changed' : ticked.has(event);
      return h('label', {}, box, t(`event.${event}` as MessageKey));
    })],
  );
}

async function loadWebhooks(): Promise<void> {
  const api = state.api;
  if (!api) return;
  try {
    state.webhooks = await api.webhooks();
  } catch (error) {
    refused(byId('webhook-message'), error);
  }
  renderWebhooks();
}

async function loadLog(): Promise<void> {
  const api = state.api;
  const open = state.log;
  if (!api || !open) return;
  try {
    const attempts = await api.deliveries(open.id);
    if (state.log?.id === open.id) state.log = { id: open.id, attempts };
  } catch (error) {
    refused(byId('webhook-message'), error);
  }
  renderWebhooks();
}

/** A webhook refusal in words: a URL the API will not send to gets its own sentence, with the API's reason. */
function webhookRefused(error: unknown): void {
  const problem = problemOf(error);
  if (problem.code === 'validation' && problem.detail.includes('/body/url')) say(byId('webhook-message'), t('webhooks.badUrl', { detail: problem.detail.replace(/^.*\/body\/url:?\s*/, '') }));
  else refused(byId('webhook-message'), error);
}

/** Runs a webhook action, says its refusal, and reads the endpoints again. */
async function onWebhook(run: (api: SlotsApi) => Promise<unknown>, done?: MessageKey): Promise<void> {
  const api = state.api;
  if (!api) return;
  byId('webhook-message').hidden = true;
  try {
    await run(api);
    if (done) say(byId('webhook-message'), t(done), 'ok');
  } catch (error) {
    webhookRefused(error);
  }
  await loadWebhooks();
  if (state.log) await loadLog();
}

function renderWebhooks(): void {
  const webhooks = state.webhooks;
  keepingFocus(byId('webhook-list'), () =>
    fill(byId('webhook-list'), webhooks.length === 0 ? [h('li', { class: 'empty' }, t('webhooks.none'))] : webhooks.map(webhookItem)),
  );
}

function webhookItem(endpoint: WebhookEndpoint): HTMLLIElement {
  const paused = endpoint.state === 'paused';
  const armed = state.deleteArmed === endpoint.id;
  const button = (name: string, text: string, run: () => void, primary = false) => {
    const b = h('button', { class: primary ? 'primary' : 'quiet', data: { focus: `${name}-${endpoint.id}`, action: name }, attrs: { type: 'button' } }, text);
    b.addEventListener('click', run);
    return b;
  };
  const buttons = [
    paused && button('resume', t('webhooks.resume'), () => void onWebhook((api) => api.resumeWebhook(endpoint.id)), true),
    button('log', t('webhooks.log'), () => {
      state.log = state.log?.id === endpoint.id ? undefined : { id: endpoint.id, attempts: undefined };
      renderWebhooks();
      void loadLog();
    }),
    button('delete', armed ? `${t('webhooks.delete')}?` : t('webhooks.delete'), () => {
      if (!armed) {
        state.deleteArmed = endpoint.id;
        return renderWebhooks();
      }
      state.deleteArmed = '';
      if (state.log?.id === endpoint.id) state.log = undefined;
      void onWebhook((api) => api.deleteWebhook(endpoint.id));
    }),
  ].filter((b): b is HTMLButtonElement => b instanceof HTMLButtonElement);
  const counts = [endpoint.queuedDeliveries > 0 && t('webhooks.queued', { n: endpoint.queuedDeliveries }), endpoint.refusedDeliveries > 0 && t('webhooks.refused', { n: endpoint.refusedDeliveries })].filter(Boolean).join(' · ');
  const log = state.log?.id === endpoint.id ? state.log.attempts : undefined;
  return h(
    'li',
    { class: 'webhook', data: { id: endpoint.id, state: endpoint.state } },
    h('strong', { class: 'url' }, endpoint.url),
    h('span', {}, endpoint.events.map((event) => t(`event.${event}` as MessageKey)).join(' · ')),
    h(
      'div',
      { class: 'state' },
      h('span', { class: 'badge', data: { endpoint: endpoint.state } }, paused ? `■ ${t('webhooks.paused')}` : `● ${t('webhooks.active')}`),
      paused && endpoint.pausedReason && h('span', { class: 'note' }, `${endpoint.pausedAtIso ? shortDateTime(endpoint.pausedAtIso) : ''} ${endpoint.pausedReason}`),
      counts && h('span', { class: 'note' }, counts),
    ),
    h('div', { class: 'buttons' }, ...buttons),
    state.log?.id === endpoint.id && h('ol', { class: 'deliveries' }, ...(log === undefined ? [] : log.length === 0 ? [h('li', { class: 'empty' }, t('webhooks.logNone'))] : log.map((a) => attemptItem(endpoint, a)))),
  );
}

function attemptItem(endpoint: WebhookEndpoint, a: DeliveryAttempt): HTMLLIElement {
  const replay = h('button', { class: 'quiet', data: { focus: `replay-${a.deliveryId}-${a.attempt}`, action: 'replay' }, attrs: { type: 'button' } }, t('webhooks.replay'));
  replay.addEventListener('click', () => void onWebhook((api) => api.replay(endpoint.id, a.deliveryId), 'webhooks.replayed'));
  return h(
    'li',
    { class: 'attempt', data: { delivery: a.deliveryId, outcome: a.outcome } },
    h('span', {}, shortDateTime(a.atIso)),
    h('span', { class: 'badge', data: { outcome: a.outcome } }, t(`outcome.${a.outcome}` as MessageKey)),
    h('span', {}, a.statusCode === null ? t('webhooks.noAnswer') : `HTTP ${a.statusCode}`),
    h('span', {}, `${a.durationMs} ms`),
    a.error && h('span', { class: 'note' }, a.error),
    replay,
  );
}

byId<HTMLFormElement>('webhook-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const url = byId<HTMLInputElement>('webhook-url').value.trim();
  const events = [...document.querySelectorAll<HTMLInputElement>('#webhook-events input:checked')].map((box) => box.value);
  if (events.length === 0) return say(byId('webhook-message'), t('webhooks.chooseEvent'));
  byId('webhook-secret').hidden = true;
  void onWebhook(async (api) => {
    const created = await api.createWebhook(url, events);
    byId<HTMLInputElement>('webhook-url').value = '';
    // The secret is shown this once: it is kept nowhere but this element, and goes on sign-out.
    byId('webhook-secret-value').textContent = created.secret;
    byId('webhook-secret').hidden = false;
  });
});
byId('webhook-secret-copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(byId('webhook-secret-value').textContent ?? '');
    byId('webhook-secret-copy').textContent = t('webhooks.copied');
  } catch {
    // No clipboard (an older browser, a refused permission): the secret is selected for the dispatcher to copy.
    getSelection()?.selectAllChildren(byId('webhook-secret-value'));
  }
});

// --- start --------------------------------------------------------------------------------

function renderAll(): void {
  renderAvailability();
  renderBooking();
  state.bookingsShown = '';
  renderBookings();
  renderRecord();
  renderConditions();
  renderFleet();
  renderWebhooks();
}

async function start(): Promise<void> {
  applyLanguage();
  try {
    state.config = await SlotsApi.config();
  } catch (error) {
    showSignIn(problemMessage(problemOf(error), language));
    return;
  }
  const key = sessionStorage.getItem(keyStorage);
  if (key) await signIn(key);
  else showSignIn();
}

void start();
