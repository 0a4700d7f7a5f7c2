// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { emptyMeasures, loadCatalog } from '@tower/shared';
import { count, type Language } from './i18n.ts';
import { kpiTiles, laneTile, siteFigures, type View } from './render.ts';
import { LaneGrid, type KpisNow, type LaneNow } from './state.ts';

const sites = loadCatalog().document.sites;
const view = (language: Language): View => ({ language, sites, role: undefined, failedAcknowledgements: new Set() });

const gate = (lane: string, direction: LaneNow['direction'], people: number): LaneNow => ({
  site: 'bac-luan-1', lane, kind: 'biometric-gate', direction, serviceRatePerHour: 300, status: 'open', statusSince: null, queueLength: null, queueSampledAt: null,
  lastHour: { trucksCrossed: 0, containersMoved: 0, events: people + 1, clearanceP95Ms: null, people },
});
const truckLane: LaneNow = {
  site: 'bac-luan-2', lane: 'bl2-smart-ex-1', kind: 'smart', direction: 'export', serviceRatePerHour: 240, status: 'open', statusSince: null, queueLength: 2, queueSampledAt: null,
  lastHour: { trucksCrossed: 40, containersMoved: 0, events: 300, clearanceP95Ms: 9_000, people: 0 },
};

const kpis = (site: string | null, lanes: LaneNow[], exits: number, entries: number): KpisNow => ({
  site, at: 0, dayStart: 0, lastHour: { ...emptyMeasures, trucksCrossed: 40 }, today: emptyMeasures,
  clearance: { targetMs: 15_000, minTrucks: 20, smart: { trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0, verdict: 'none' }, manual: { trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0 } },
  people: { lastHour: { exits, entries }, today: { exits: 10 * exits, entries: 10 * entries } },
  lanesOpen: lanes.length, lanesTotal: lanes.length, lanesOpenLevel: 'normal', queueLength: 2, queueLongest: 2, queueLevel: 'normal', lanes,
});

describe('people at Bắc Luân I on the wall', () => {
  it('says people per hour with each language’s plural and unit', () => {
    expect(count('peoplePerHour', 1, 'en')).toBe('1 person/h');
    expect(count('peoplePerHour', 1_350, 'en')).toBe('1,350 people/h');
    expect(count('peoplePerHour', 1_350, 'vi')).toBe('1.350 người/giờ');
    expect(count('peoplePerHour', 1_350, 'zh')).toBe('1,350人/小时');
  });

  it('shows a biometric gate as exit or entry with its people per hour, no trucks and no queue', () => {
    const exit = laneTile(gate('bl1-biometric-gate-ex-3', 'export', 212), view('vi'));
    expect(exit.querySelector('.name')!.textContent).toBe('Cổng tự động · Xuất cảnh\u00a03');
    expect(exit.querySelector('.figures')!.textContent).toBe('212 người/giờ');
    const entry = laneTile(gate('bl1-biometric-gate-im-1', 'import', 1), view('en'));
    expect(entry.querySelector('.name')!.textContent).toBe('Biometric gate · Entry\u00a01');
    expect(entry.querySelector('.figures')!.textContent).toBe('1 person/h');
  });

  it('sums a crossing’s gates into people per hour, never into its trucks', () => {
    const grid = new LaneGrid();
    grid.reset([gate('bl1-biometric-gate-ex-1', 'export', 700), gate('bl1-biometric-gate-im-1', 'import', 650), truckLane]);
    const bl1 = grid.summary('bac-luan-1');
    expect(bl1).toMatchObject({ trucksLastHour: 0, gatesForPeople: 2, peopleLastHour: 1_350, queueLength: 0 });
    expect(siteFigures(bl1, view('vi'))).toBe('1.350 người/giờ');
    expect(siteFigures(grid.summary('bac-luan-2'), view('en'))).toBe('40 trucks/h · 2 in queue');
  });

  it('adds a people tile, exits and entries apart, on the page of a crossing with gates for people, and none elsewhere', () => {
    const withGates = kpiTiles(kpis('bac-luan-1', [truckLane, gate('bl1-biometric-gate-ex-1', 'export', 550)], 550, 540), view('en'));
    const tile = withGates.find((t) => t.dataset['kpi'] === 'peoplePerHour')!;
    expect(tile.querySelector('.value')!.textContent).toBe('1,090');
    expect(tile.querySelector('.note')!.textContent).toBe('550 out · 540 in');
    // The trucks tile is the trucks' alone.
    expect(withGates.find((t) => t.dataset['kpi'] === 'trucksPerHour')!.querySelector('.value')!.textContent).toBe('40');
    expect(kpiTiles(kpis('bac-luan-2', [truckLane], 0, 0), view('en')).some((t) => t.dataset['kpi'] === 'peoplePerHour')).toBe(false);
    // The zone's row keeps its eight tiles (a ninth does not fit at 1366x768); its schematic shows Bắc Luân I's people per hour.
    expect(kpiTiles(kpis(null, [truckLane, gate('bl1-biometric-gate-ex-1', 'export', 550)], 550, 540), view('en')).some((t) => t.dataset['kpi'] === 'peoplePerHour')).toBe(false);
  });
});
