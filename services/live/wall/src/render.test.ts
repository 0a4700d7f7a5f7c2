// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { emptyMeasures, loadCatalog, type Site } from '@tower/shared';
import { alertItems, fill, kpiTiles, laneTile, siteItems, slotItems, type View } from './render.ts';
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
  lastHour: { trucksCrossed: 1, containersMoved: 0, events: 2, clearanceP95Ms: null },
};
const alert = (state: Alert['state']): Alert => ({
  id: breakout, cause: evil, rule: 'lane-fault', severity: 'critical', site: breakout, lane: breakout, state, revision: 1, value: 1, threshold: 1,
  raisedAt: 0, acknowledgedAt: state === 'acknowledged' ? 1 : null, acknowledgedBy: state === 'acknowledged' ? evil : null, clearedAt: null,
});
const kpis: KpisNow = {
  site: breakout, at: 0, dayStart: 0, lastHour: emptyMeasures, today: emptyMeasures, clearance: { targetMs: 15_000, p95Ms: null, withinTarget: null },
  lanesOpen: 1, lanesTotal: 1, queueLength: 3, lanes: [lane],
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

    const sites = rendered((c) => fill(c, siteItems(grid, breakout, view)));
    expect(sites.querySelector('li')!.getAttribute('title')).toBe(evil);
    expect(sites.querySelector('li')!.getAttribute('aria-current')).toBe('true');

    const open = rendered((c) => fill(c, alertItems([alert('active')], view)));
    expect(open.textContent).toContain(`${evil} · BL2`); // the lane's name, the site's short name (its code when it has none)
    expect((open.querySelector('button') as HTMLElement).dataset['acknowledge']).toBe(breakout);
    expect((open.querySelector('li') as HTMLElement).dataset['alert']).toBe(breakout);
    const acknowledged = rendered((c) => fill(c, alertItems([alert('acknowledged')], view)));
    expect(acknowledged.textContent).toContain(`Acknowledged by ${evil}`);
    expect(acknowledged.querySelector('button')).toBeNull();

    rendered((c) => fill(c, kpiTiles(kpis, view)));
    const slots = rendered((c) => fill(c, slotItems([{ windowStart: 0, windowEnd: 1_800_000, capacity: 10, held: 1, booked: 4, utilisation: 0.5, closedGroups: 0 }], view)));
    expect(parseFloat((slots.querySelector('.booked') as HTMLElement).style.width)).toBe(40);
    expect(parseFloat((slots.querySelector('.held') as HTMLElement).style.width)).toBe(10);
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });
});
