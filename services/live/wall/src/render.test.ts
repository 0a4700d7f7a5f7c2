// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { emptyMeasures, loadCatalog, type Site } from '@tower/shared';
import { alertItems, fill, kpiTiles, laneTile, moreAlerts, slotItems, type View } from './render.ts';
import { siteSchematic, zoneSchematic } from './schematic.ts';
import { LaneGrid, type Alert, type KpisNow, type LaneNow } from './state.ts';

/** What a hostile or broken feed could put where the wall shows a name, an id or a figure. */
const evil = '<img src=x onerror="globalThis.pwned=1">';
const breakout = 'x" data-pwned="1';

const [bacLuan] = loadCatalog().document.sites;
const names = { vi: evil, en: evil, zh: evil };
const site: Site = { ...bacLuan!, id: breakout, names, lanes: bacLuan!.lanes.map((lane, i) => (i === 0 ? { ...lane, id: breakout, names } : lane)) };
const view: View = { language: 'en', sites: [site], role: 'operator', failedAcknowledgements: new Set([breakout]) };

const lane: LaneNow = {
  site: breakout, lane: breakout, kind: 'smart', direction: 'export', serviceRatePerHour: 240, status: 'open', statusSince: null, queueLength: 3, queueSampledAt: null,
  lastHour: { trucksCrossed: 1, containersMoved: 0, events: 2, clearanceP95Ms: null, people: 0 },
};
const alert = (state: Alert['state']): Alert => ({
  id: breakout, cause: evil, rule: 'lane-fault', severity: 'critical', site: breakout, lane: breakout, state, revision: 1, value: 1, threshold: 1,
  raisedAt: 0, acknowledgedAt: state === 'acknowledged' ? 1 : null, acknowledgedBy: state === 'acknowledged' ? 'operator-1' : null, acknowledgedByName: state === 'acknowledged' ? evil : null, clearedAt: null,
});
const kpis: KpisNow = {
  site: breakout, at: 0, dayStart: 0, lastHour: emptyMeasures, today: emptyMeasures,
  clearance: { targetMs: 15_000, minTrucks: 20, smart: { trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0, verdict: 'none' }, manual: { trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0 } },
  people: { lastHour: { exits: 0, entries: 0 }, today: { exits: 0, entries: 0 } },
  lanesOpen: 1, lanesTotal: 1, lanesOpenLevel: 'normal', queueLength: 3, queueLongest: 3, queueLevel: 'normal', lanes: [lane],
};

/** Renders into a fresh element as the wall does and checks nothing of the data became markup. */
function rendered(render: (container: HTMLElement) => void): HTMLElement {
  const container = document.createElement('ol');
  render(container);
  expect(container.querySelector('img'), container.innerHTML).toBeNull();
  expect(container.querySelector('[data-pwned]'), container.innerHTML).toBeNull();
  return container;
}

describe('the wall’s panels', () => {
  it('show names, ids and who acknowledged as text, never as HTML', () => {
    const grid = new LaneGrid();
    grid.reset([lane]);
    const lanes = rendered((c) => fill(c, [laneTile(lane, view)]));
    expect(lanes.querySelector('.name')!.getAttribute('title')).toBe(evil); // the catalog's full name; the tile shows a short label
    expect(lanes.querySelector('.site')!.textContent).toBe('BL2'); // the site's short name (its code when it has none)
    expect((lanes.querySelector('li') as HTMLElement).dataset['lane']).toBe(breakout);

    const zone = rendered((c) => fill(c, [zoneSchematic([site], grid, view, { width: 1000, rem: 20 })]));
    expect(zone.querySelector('[data-site] title')!.textContent).toBe(evil); // the catalog's full name, as the crossing's tooltip
    expect(zone.querySelector('[data-site]')!.getAttribute('data-site')).toBe(breakout);
    const drawn = rendered((c) => fill(c, [siteSchematic(site, grid, view, { width: 1000, rem: 20 })]));
    expect(drawn.querySelector('[data-lane] title')!.textContent).toBe(evil);

    const fourMinutesLater = 4 * 60_000 + 5_000;
    const open = rendered((c) => fill(c, alertItems([alert('active')], view, fourMinutesLater)));
    expect(open.querySelector('.where')!.textContent).toBe(`Smart · Export\u00a0${breakout} · BL2`); // as the lane tiles say it, the site's short name (its code when it has none)
    expect(open.querySelector('.where')!.getAttribute('title')).toBe(`${evil} · ${evil}`); // the catalog's full names
    expect((open.querySelector('button') as HTMLElement).dataset['acknowledge']).toBe(breakout);
    expect((open.querySelector('li') as HTMLElement).dataset['alert']).toBe(breakout);
    expect(open.querySelector('.when .age')!.textContent).toBe('4 minutes ago');
    expect(open.querySelector('.when')!.textContent, 'how long ago, where and a failed acknowledgement on one running line').toBe(`4 minutes ago · Smart · Export\u00a0${breakout} · BL2 · Not acknowledged yet, try again`);
    expect(open.querySelectorAll('li > div').length, 'two blocks: severity and what, then when and where').toBe(2);
    expect((open.querySelector('li') as HTMLElement).dataset['status'], 'unacknowledged: tinted as its severity').toBe('fault');
    const acknowledged = rendered((c) => fill(c, alertItems([alert('acknowledged')], view, fourMinutesLater)));
    expect(acknowledged.textContent).toContain(`Acknowledged by ${evil}`); // the operator's display name, not the token id
    expect(acknowledged.querySelector('.when')!.textContent).toMatch(new RegExp(`^4 minutes ago · .* · Acknowledged by `));
    expect((acknowledged.querySelector('li') as HTMLElement).dataset['status']).toBeUndefined();
    const { acknowledgedByName: _none, ...stored } = alert('acknowledged'); // stored before names were recorded
    expect(rendered((c) => fill(c, alertItems([stored], view, fourMinutesLater))).textContent).toContain('Acknowledged by operator-1');
    expect(acknowledged.querySelector('button')).toBeNull();
    // The alerts that do not fit are counted in the panel's title (a string), nothing when all fit.
    expect(moreAlerts(3, view)).toBe('+3 more');
    expect(moreAlerts(0, view)).toBe('');

    rendered((c) => fill(c, kpiTiles(kpis, view)));
    const slots = rendered((c) => fill(c, slotItems([{ windowStart: 0, windowEnd: 1_800_000, capacity: 10, held: 1, booked: 4, utilisation: 0.5, closedGroups: 0 }], view)));
    expect(parseFloat((slots.querySelector('.booked') as HTMLElement).style.width)).toBe(40);
    expect(parseFloat((slots.querySelector('.held') as HTMLElement).style.width)).toBe(10);
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });

  it('judge the clearance only on enough trucks, show the sample and the held trucks, and colour queue and lanes open by their thresholds, each as icon and word', () => {
    const tiles = (over: Partial<KpisNow>, language: View['language'] = 'en') => {
      const container = rendered((c) => fill(c, kpiTiles({ ...kpis, ...over }, { ...view, language })));
      const tile = (key: string) => container.querySelector(`[data-kpi="${key}"]`) as HTMLElement;
      return { tile, judged: (key: string) => (tile(key).querySelector('[data-judged]') as HTMLElement | null)?.dataset['judged'] ?? null };
    };
    // One truck at 15.3 s: no verdict, no red; the figure is shown with its sample.
    const few = tiles({ clearance: { ...kpis.clearance, smart: { trucks: 1, p50Ms: 15_300, p95Ms: 15_300, heldTrucks: 0, verdict: 'too-few' } } });
    expect(few.judged('clearance')).toBe('too-few');
    expect(few.tile('clearance').className).toBe('tile');
    expect(few.tile('clearance').querySelector('.chip')!.textContent).toBe('?Too few');
    expect(few.tile('clearance').querySelector('.note')!.textContent).toContain('n\u00a0=\u00a01 truck ·');
    expect(tiles({ clearance: { ...kpis.clearance, smart: { trucks: 1, p50Ms: 15_300, p95Ms: 15_300, heldTrucks: 0, verdict: 'too-few' } } }, 'vi').tile('clearance').querySelector('.chip')!.textContent).toBe('?Quá ít xe');
    const judged = tiles({
      clearance: { ...kpis.clearance, smart: { trucks: 42, p50Ms: 9_000, p95Ms: 16_000, heldTrucks: 3, verdict: 'over' }, manual: { trucks: 5, p50Ms: 200_000, p95Ms: 300_000, heldTrucks: 1 } },
      queueLevel: 'warning', queueLongest: 31, lanesOpenLevel: 'warning',
    });
    expect(judged.judged('clearance')).toBe('over');
    expect(judged.tile('clearance').className).toBe('tile bad');
    expect(judged.tile('clearance').querySelector('.note')!.textContent).toBe('✖Over target n\u00a0=\u00a042 trucks · 3 held · target 15 s');
    expect(judged.judged('clearanceManual')).toBe('too-few'); // 5 of the 20 needed; manual lanes have no target of their own
    expect(judged.tile('clearanceManual').querySelector('.value')!.textContent).toBe('5min');
    expect(judged.judged('queue')).toBe('warning');
    expect(judged.tile('queue').querySelector('.note')!.textContent).toBe('▲Warning longest lane 31');
    expect(judged.judged('lanesOpen')).toBe('warning');
    expect(tiles({}).judged('queue')).toBe('normal');
    expect(tiles({}).judged('clearance')).toBeNull(); // no truck, nothing to judge
  });

  it('say how many trucks the tonnes lack (neither weighed nor declared), and nothing when none', () => {
    const note = (trucksUnweighed: number, language: View['language']) =>
      rendered((c) => fill(c, kpiTiles({ ...kpis, today: { ...emptyMeasures, tonnes: 2635.6, trucksUnweighed } }, { ...view, language }))).querySelector('[data-kpi="tonnesToday"] .note')!.textContent;
    expect(note(0, 'en')).toBe('');
    expect(note(1, 'en')).toBe('1 truck without a weight');
    expect(note(3, 'en')).toBe('3 trucks without a weight');
    expect(note(3, 'vi')).toBe('3 xe chưa rõ trọng lượng');
    expect(note(3, 'zh')).toBe('3辆重量不明');
  });

  it('show whole tonnes from 100 t up (a tenth of a tonne over thousands is noise and does not fit a ninth of a laptop screen)', () => {
    const tonnes = (today: number) => rendered((c) => fill(c, kpiTiles({ ...kpis, today: { ...emptyMeasures, tonnes: today } }, { ...view, language: 'vi' }))).querySelector('[data-kpi="tonnesToday"] .value')!.textContent;
    expect(tonnes(3934.7)).toBe('3.935');
    expect(tonnes(12.34)).toBe('12,3');
  });
});
