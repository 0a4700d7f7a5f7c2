// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '@tower/shared';
import type { Language } from './i18n.ts';
import type { View } from './render.ts';
import { counterpartName, schematicHeightRem, siteSchematic, zoneSchematic } from './schematic.ts';
import { LaneGrid, type LaneNow } from './state.ts';

const catalog = loadCatalog();
const sites = catalog.alongBorder();
const view = (language: Language = 'vi'): View => ({ language, sites, role: undefined, failedAcknowledgements: new Set() });
const size = { width: 1800, rem: 23 };

/** Every operating lane of the zone, open, but for the ones given. */
function grid(states: Record<string, LaneNow['status']> = {}, queues: Record<string, number> = {}): LaneGrid {
  const lanes = new LaneGrid();
  lanes.reset(
    sites
      .filter((s) => s.phase !== 'construction')
      .flatMap((s) =>
        s.lanes.map((l): LaneNow => ({
          site: s.id, lane: l.id, kind: l.kind, direction: l.direction, serviceRatePerHour: l.serviceRatePerHour, status: states[l.id] ?? 'open', statusSince: null, queueLength: queues[l.id] ?? 0, queueSampledAt: null,
          lastHour: { trucksCrossed: 0, containersMoved: 0, events: 0, clearanceP95Ms: null, people: 0 },
        })),
      ),
  );
  return lanes;
}

const crossings = (drawing: SVGSVGElement) => [...drawing.querySelectorAll('g.crossing')];
const textOf = (node: Element, selector: string) => node.querySelector(selector)?.textContent ?? null;

describe('the zone schematic', () => {
  it('draws every catalog site in the border order, west to east, the ports last beyond the end of the border line', () => {
    const drawing = zoneSchematic(sites, grid(), view(), size);
    expect(crossings(drawing).map((c) => c.getAttribute('data-site'))).toEqual(['hoanh-mo', 'bac-phong-sinh', 'po-hen', 'km3-4-hai-yen', 'ka-long', 'bac-luan-1', 'bac-luan-2', 'van-gia', 'van-ninh']);
    const x = (c: Element) => Number(c.querySelector('.name')!.getAttribute('x'));
    const xs = crossings(drawing).map(x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    const lineEnd = Number(drawing.querySelector('.border-line')!.getAttribute('x2'));
    for (const crossing of crossings(drawing)) {
      const port = sites.find((s) => s.id === crossing.getAttribute('data-site'))!.kind === 'seaport';
      expect(x(crossing) > lineEnd, crossing.getAttribute('data-site')!).toBe(port);
    }
    expect(drawing.querySelector('.sea')).not.toBeNull();
  });

  it('names each land crossing’s Chinese counterpart, without the province every one shares, in each language', () => {
    for (const [language, dongxing] of [['vi', 'Đông Hưng'], ['en', 'Dongxing'], ['zh', '东兴']] as const) {
      const drawing = zoneSchematic(sites, grid(), view(language), size);
      const counterpart = (id: string) => textOf(drawing.querySelector(`[data-site="${id}"]`)!, '.counterpart');
      expect(counterpart('bac-luan-2')).toBe(dongxing);
      expect(counterpart('van-gia')).toBeNull();
    }
    expect(counterpartName(view('vi'), catalog.site('po-hen')!)).toBe('Thán Sản');
    expect(counterpartName(view('zh'), catalog.site('hoanh-mo')!)).toBe('峒中');
  });

  it('shows each crossing’s state as icon and word, and its worst lane: the most serious state, then the longest queue', () => {
    const drawing = zoneSchematic(sites, grid({ 'bl2-scanner-im-1': 'fault', 'km34-manual-ex-2': 'congested' }, { 'hm-manual-im-1': 7 }), view('en'), size);
    const at = (id: string) => drawing.querySelector(`[data-site="${id}"]`)!;
    expect(at('bac-luan-2').getAttribute('data-status')).toBe('fault');
    expect(textOf(at('bac-luan-2'), '.band-text')).toBe('✖ Fault');
    expect(textOf(at('bac-luan-2'), '.worst-lane')).toBe('Scanner · Import\u00a01');
    expect(textOf(at('km3-4-hai-yen'), '.band-text')).toBe('▲ Congested');
    expect(textOf(at('km3-4-hai-yen'), '.worst-lane')).toBe('Manual · Export\u00a02');
    expect(textOf(at('hoanh-mo'), '.band-text')).toBe('✔ Open');
    expect(textOf(at('hoanh-mo'), '.worst-lane')).toBe('Manual · Import\u00a01');
    // Lanes counted by state on the marker: Bắc Luân II's fault and the twelve others open.
    expect(textOf(at('bac-luan-2'), '.marker .counts')).toBe(`✖\u00a01 ✔\u00a0${catalog.site('bac-luan-2')!.lanes.length - 1}`);
    for (const crossing of crossings(drawing)) expect(textOf(crossing, '.band-text'), crossing.getAttribute('data-site')!).toMatch(/^[✔▲✖■?⚒] \p{L}/u);
  });

  it('draws Vạn Ninh, a port being built, as under construction in every language, never as a site without data', () => {
    for (const [language, word] of [['vi', 'Đang xây dựng'], ['en', 'Under construction'], ['zh', '在建']] as const) {
      const vanNinh = zoneSchematic(sites, grid(), view(language), size).querySelector('[data-site="van-ninh"]')!;
      expect(vanNinh.getAttribute('data-status')).toBe('construction');
      expect(textOf(vanNinh, '.band-text')).toBe(`⚒ ${word}`);
      expect(textOf(vanNinh, '.marker')).toBe('⚒');
      expect(vanNinh.textContent).not.toMatch(/Chưa rõ|Unknown|未知|\?/);
      expect(vanNinh.querySelector('.figures, .worst-lane')).toBeNull();
    }
  });

  it('keeps every text inside the drawing, at every size of the wall', () => {
    for (const [width, height] of [[3840, 2160], [2560, 1440], [1920, 1080], [1366, 768]] as const) {
      const rem = 4 + 0.0178 * height;
      const drawing = zoneSchematic(sites, grid(), view(), { width: width - 2 * rem, rem });
      for (const node of drawing.querySelectorAll('text')) {
        const y = Number(node.getAttribute('y'));
        expect(y, node.textContent!).toBeGreaterThan(0.9 * rem * 0.8);
        expect(y, node.textContent!).toBeLessThanOrEqual(schematicHeightRem * rem - 0.2 * rem);
      }
      for (const site of sites) {
        const drawn = siteSchematic(site, grid(), view(), { width: width - 2 * rem, rem });
        for (const node of drawn.querySelectorAll('text')) expect(Number(node.getAttribute('y')), `${site.id} ${node.textContent}`).toBeLessThanOrEqual(schematicHeightRem * rem - 0.2 * rem);
      }
    }
  });
});

describe('a site’s schematic', () => {
  it('draws the site’s lanes, exports first, each with its state as icon and word, its kind and direction; and its zones', () => {
    const site = catalog.site('bac-luan-2')!;
    const drawing = siteSchematic(site, grid({ 'bl2-smart-ex-3': 'fault' }), view(), size);
    const lanes = [...drawing.querySelectorAll('g.lane')];
    expect(lanes.map((l) => l.getAttribute('data-lane')).sort()).toEqual(site.lanes.map((l) => l.id).sort());
    const directions = lanes.map((l) => site.lanes.find((c) => c.id === l.getAttribute('data-lane'))!.direction);
    expect(directions).toEqual([...directions].sort()); // export before import
    const faulty = drawing.querySelector('[data-lane="bl2-smart-ex-3"]')!;
    expect(textOf(faulty, '.band-text')).toBe('✖ Sự cố');
    expect(textOf(faulty, '.marker-icon')).toBe('✖');
    expect(textOf(faulty, '.lane-kind')).toBe('Thông minh');
    expect(textOf(faulty, '.lane-place')).toBe('↑ Xuất\u00a03');
    expect(textOf(drawing.querySelector('[data-lane="bl2-smart-im-1"]')!, '.lane-place')).toBe('↓ Nhập\u00a01');
    expect([...drawing.querySelectorAll('g.zone')].map((z) => z.textContent)).toEqual(site.zones.map((z) => z.names.vi));
    expect(textOf(drawing, '.counterpart')).toBe('Đông Hưng (Quảng Tây)');
  });

  it('draws a site under construction with its planned lanes and zones, each lane under construction', () => {
    const site = catalog.site('van-ninh')!;
    const drawing = siteSchematic(site, grid(), view('en'), size);
    expect([...drawing.querySelectorAll('g.lane')].map((l) => textOf(l, '.band-text'))).toEqual(site.lanes.map(() => '⚒ Under construction'));
    expect(drawing.querySelectorAll('g.zone')).toHaveLength(site.zones.length);
    expect(drawing.querySelector('.counterpart')).toBeNull(); // a port faces the sea
  });

  it('says so when a site has no lanes, and shows a lane without data as unknown', () => {
    const site = { ...catalog.site('ka-long')!, lanes: [] };
    expect(textOf(siteSchematic(site, grid(), view('en'), size), '.figures')).toBe('No lanes in the catalog');
    const noData = siteSchematic(catalog.site('ka-long')!, new LaneGrid(), view('en'), size);
    expect([...noData.querySelectorAll('g.lane .band-text')].map((b) => b.textContent)).toEqual(['? Unknown', '? Unknown']);
  });
});
