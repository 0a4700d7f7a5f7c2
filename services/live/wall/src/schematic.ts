import type { Site, Zone } from '@tower/shared';
import { svg } from '@tower/shared/web/dom';
import { laneLabel, laneLabelParts, named, shortSiteName, siteFigures, stateIcons, text, type LaneNamed, type View } from './render.ts';
import { listedStatuses, type LaneGrid, type LaneNow, type LaneStatus, type SiteSummary } from './state.ts';

/**
 * The zone as a schematic, plain SVG built from the catalog (no map, nothing fetched):
 * the border line west to east with China above and Vietnam below (north up), each
 * crossing a marker on the line in the catalog's border order with its state as icon and
 * word on a band of its colour, its short name, its Chinese counterpart, its worst lane
 * and its figures; the ports apart at the sea end. With a site selected, that site: its
 * lanes across the line (exports up towards China, imports down), each with its state,
 * and its yards, warehouses, berths and cranes.
 *
 * Pure builders: the caller gives the size (the box's width and the root font size in px)
 * and gets an `<svg>` whose user unit is the CSS pixel, so text sizes set in rem by the
 * stylesheet scale with the screen like the rest of the wall. Texts carry the width they
 * may take (`data-fit`); `fitLabels` narrows the few that are wider once laid out.
 */

/** A crossing's or a lane's state on the schematic: a lane state, or a site being built. */
export type SchematicState = LaneStatus | 'construction';
const constructionIcon = '⚒';

const stateIcon = (state: SchematicState) => (state === 'construction' ? constructionIcon : stateIcons[state]);
const stateWord = (view: View, state: SchematicState) => text(view, state === 'construction' ? 'phase.construction' : `status.${state}`);

/** The box the schematic fills: its width and the root font size (1rem), both in CSS px. */
export interface SchematicSize {
  width: number;
  rem: number;
}

/** Height of the schematic, in rem: the same for the zone and a site, so the wall does not jump. */
export const schematicHeightRem = 7.7;

/** A site being built (Vạn Ninh): drawn and listed as such, never as lanes without data. */
const underConstruction = (site: Pick<Site, 'phase'>) => site.phase === 'construction';

/** The counterpart's name without its province ("Đông Hưng (Quảng Tây)" → "Đông Hưng"): every one is in Guangxi. */
export const counterpartName = (view: View, site: Site) => (site.counterpart ? named(view, site.counterpart, '').replace(/\s*[(（][^)）]*[)）]\s*$/u, '') : '');

/** Exports leave Vietnam towards China (up), imports come down from it; people exit and enter the same way. */
const directionArrow: Readonly<Record<LaneNamed['direction'], string>> = { export: '↑', import: '↓' };

/** A text centred on `x` (or starting or ending there) that may take `room` px; `short`, a shorter wording for when it does not fit. */
function label(x: number, y: number, content: string, className: string, room: number, anchor: 'middle' | 'start' | 'end' = 'middle', short?: string): SVGTextElement {
  return svg('text', { x, y, class: className, 'text-anchor': anchor, 'data-fit': Math.max(1, room), ...(short ? { 'data-short': short } : {}) }, content);
}

/** A lane's place among the site's lanes: its direction and number ("↑ Xuất 3"), the short form of its label. */
function lanePlace(view: View, lane: LaneNamed): string {
  const { direction, number } = laneLabelParts(view, lane);
  return `${directionArrow[lane.direction]} ${text(view, 'lane.place').replace('{direction}', direction).replace('{n}', number)}`;
}

/** A state as a band of its colour with icon and word (the SVG twin of the HTML chip). */
function band(view: View, state: SchematicState, x: number, y: number, width: number, rem: number, lines: 1 | 2 = 1): SVGGElement {
  const height = (lines === 1 ? 1.25 : 2.35) * rem;
  const text = label(x + width / 2, y + height / 2 + 0.33 * rem, `${stateIcon(state)} ${stateWord(view, state)}`, 'band-text', width - 0.4 * rem);
  if (lines === 2) text.setAttribute('data-wrap', '');
  return svg('g', { class: 'band', 'data-status': state }, svg('rect', { x, y, width, height, rx: 0.25 * rem }), text);
}

/** A crossing's lanes counted by state on its marker ("✖ 1 ✔ 12"), the icons in their colours. */
function markerCounts(counts: Readonly<Record<LaneStatus, number>>, x: number, y: number, room: number): SVGTextElement {
  const parts = listedStatuses.filter((status) => counts[status] > 0).flatMap((status, i) => [i > 0 ? ' ' : '', svg('tspan', { class: 'icon', 'data-status': status }, stateIcons[status]), svg('tspan', { class: 'count' }, `\u00a0${counts[status]}`)]);
  return svg('text', { x, y, class: 'counts', 'text-anchor': 'middle', 'data-fit': room }, ...parts);
}

/** The marker of a crossing on the border line: its state's colour, its lanes by state (or the construction sign). */
function marker(state: SchematicState, summary: SiteSummary, cx: number, cy: number, width: number, rem: number): SVGGElement {
  const height = 1.5 * rem;
  const content = state === 'construction' || summary.lanesTotal === 0 ? label(cx, cy + 0.33 * rem, state === 'construction' ? constructionIcon : '—', 'counts', width - 0.4 * rem) : markerCounts(summary.counts, cx, cy + 0.33 * rem, width - 0.4 * rem);
  return svg('g', { class: 'marker', 'data-status': state }, svg('rect', { x: cx - width / 2, y: cy - height / 2, width, height, rx: 0.4 * rem }), content);
}

/** A marker as wide as its counts need ("✖ 1 ✔ 12": about 2.2rem a state). */
const markerWidth = (summary: SiteSummary, rem: number) => (1.2 + 2.2 * Math.max(1, listedStatuses.filter((status) => summary.counts[status] > 0).length)) * rem;

/** A site's state on the schematic: under construction, or its worst lane's. */
function siteState(site: Site, summary: SiteSummary): SchematicState {
  return underConstruction(site) ? 'construction' : summary.worst;
}

/** "China" above the line, "Vietnam" below, one word a line, right-aligned in the gutter. */
function sideLabels(view: View, gutter: number, rem: number, above: string): SVGGElement {
  const lines = (words: string, firstBaseline: number) => words.split(' ').map((word, i) => label(gutter - 0.5 * rem, firstBaseline + i * 1.1 * rem, word, 'side', gutter - 0.6 * rem, 'end'));
  const up = above.split(' ').length;
  return svg('g', { class: 'sides' }, ...lines(above, (rows.line - 0.05 - (up - 1) * 1.1) * rem), ...lines(text(view, 'schematic.vietnam'), (rows.line + 1.15) * rem));
}

/** The gutter for the side labels, and where things sit from the top (rem). */
const gutterRem = 4;
const rows = { far: 1.0, line: 2.05, name: 3.85, band: 4.12, worstLane: 6.3, figures: 7.42, laneBand: 3.0, laneKind: 5.15, lanePlace: 6.27, zones: 6.5 } as const;

/**
 * The whole zone: the crossings on the border line in border order, each a column (its
 * counterpart above the line, its marker on it, its name, state, worst lane and figures
 * below); the ports last, in the sea beyond the river mouth where the line ends.
 */
export function zoneSchematic(sites: readonly Site[], grid: LaneGrid, view: View, size: SchematicSize): SVGSVGElement {
  const { width, rem } = size;
  const height = schematicHeightRem * rem;
  const gutter = gutterRem * rem;
  const column = (width - gutter) / Math.max(1, sites.length);
  const coast = gutter + sites.filter((s) => s.kind !== 'seaport').length * column;
  const columns = sites.map((site, i) => {
    const summary = grid.summary(site.id);
    const state = siteState(site, summary);
    const x = gutter + i * column;
    const cx = x + column / 2;
    const room = column - 0.3 * rem;
    return svg(
      'g',
      { class: 'crossing', 'data-site': site.id, 'data-status': state },
      svg('title', {}, named(view, site.names, site.id)),
      svg('rect', { class: 'hit', x, y: 0, width: column, height }),
      site.counterpart && label(cx, rows.far * rem, counterpartName(view, site), 'counterpart', room),
      marker(state, summary, cx, rows.line * rem, Math.min(column - 0.6 * rem, markerWidth(summary, rem)), rem),
      label(cx, rows.name * rem, shortSiteName(view, site.id), 'name', room),
      // A site being built has no worst lane or figures: its band may take two lines ("⚒ Under / construction").
      band(view, state, x + 0.2 * rem, rows.band * rem, column - 0.4 * rem, rem, state === 'construction' ? 2 : 1),
      state !== 'construction' && summary.worstLane && label(cx, rows.worstLane * rem, laneLabel(view, summary.worstLane), 'worst-lane', room, 'middle', lanePlace(view, summary.worstLane)),
      state !== 'construction' && label(cx, rows.figures * rem, siteFigures(summary, view), 'figures', room),
    );
  });
  const ports = coast < width - 1;
  return svg(
    'svg',
    { class: 'schematic', width, height, viewBox: `0 0 ${Math.round(width)} ${Math.round(height)}`, role: 'img', 'aria-label': text(view, 'schematic.title'), 'data-view': 'zone' },
    ports && svg('rect', { class: 'sea', x: coast + 0.1 * rem, y: 0, width: width - coast - 0.1 * rem, height, rx: 0.4 * rem }),
    ports && label((coast + width) / 2, rows.far * rem, text(view, 'schematic.ports'), 'side', width - coast - 0.4 * rem),
    sideLabels(view, gutter, rem, text(view, 'schematic.china')),
    svg('line', { class: 'border-line', x1: gutter, y1: rows.line * rem, x2: coast, y2: rows.line * rem }),
    ...columns,
  );
}

/** A catalog lane's state on the site's schematic: its live state (none yet: no data), or the site's construction. */
function laneState(site: Site, live: LaneNow | undefined): SchematicState {
  if (underConstruction(site)) return 'construction';
  return live?.status ?? 'unknown';
}

/** A zone of the site (yard, warehouse, berth, crane…) as a labelled box. */
function zoneBox(view: View, zone: Zone, x: number, y: number, width: number, rem: number): SVGGElement {
  return svg('g', { class: 'zone', 'data-zone': zone.id, 'data-kind': zone.kind }, svg('rect', { x, y, width, height: 1.17 * rem, rx: 0.2 * rem }), label(x + width / 2, y + 0.9 * rem, named(view, zone.names, zone.id), 'zone-name', width - 0.3 * rem));
}

/**
 * One site: its lanes across the border line (the quay at a port), exports first, each
 * with its state's icon on the line and a band with icon and word, its kind and its
 * direction (an arrow towards China for exports) under it; its zones along the bottom.
 */
export function siteSchematic(site: Site, grid: LaneGrid, view: View, size: SchematicSize): SVGSVGElement {
  const { width, rem } = size;
  const height = schematicHeightRem * rem;
  const gutter = gutterRem * rem;
  const lineY = rows.line * rem;
  const live = new Map(grid.ofSite(site.id).map((lane) => [lane.lane, lane]));
  const lanes = [...site.lanes].sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'export' ? -1 : 1));
  const column = Math.min((width - gutter) / Math.max(1, lanes.length), 10 * rem);
  const seaward = site.kind === 'seaport';
  const laneColumns = lanes.map((lane, i) => {
    const state = laneState(site, live.get(lane.id));
    const x = gutter + i * column;
    const cx = x + column / 2;
    const room = column - 0.3 * rem;
    const called = { lane: lane.id, kind: lane.kind, direction: lane.direction };
    const side = 1.5 * rem;
    return svg(
      'g',
      { class: 'lane', 'data-lane': lane.id, 'data-status': state },
      svg('title', {}, named(view, lane.names, lane.id)),
      svg('g', { class: 'marker' }, svg('rect', { x: cx - side / 2, y: lineY - side / 2, width: side, height: side, rx: 0.3 * rem }), label(cx, lineY + 0.33 * rem, stateIcon(state), 'marker-icon', side)),
      band(view, state, x + 0.15 * rem, rows.laneBand * rem, column - 0.3 * rem, rem),
      label(cx, rows.laneKind * rem, laneLabelParts(view, called).kind, 'lane-kind', room),
      label(cx, rows.lanePlace * rem, lanePlace(view, called), 'lane-place', room),
    );
  });
  const zoneWidth = Math.min((width - gutter) / Math.max(1, site.zones.length), 10 * rem);
  const zones = site.zones.map((zone, i) => zoneBox(view, zone, gutter + i * zoneWidth + 0.1 * rem, rows.zones * rem, zoneWidth - 0.2 * rem, rem));
  const farWidth = Math.max(lanes.length * column, 14 * rem);
  return svg(
    'svg',
    { class: 'schematic', width, height, viewBox: `0 0 ${Math.round(width)} ${Math.round(height)}`, role: 'img', 'aria-label': named(view, site.names, site.id), 'data-view': 'site', 'data-site': site.id, 'data-status': underConstruction(site) ? 'construction' : 'operating' },
    sideLabels(view, gutter, rem, text(view, seaward ? 'schematic.sea' : 'schematic.china')),
    !seaward && label(gutter + farWidth / 2, rows.far * rem, named(view, site.counterpart, text(view, 'schematic.china')), 'counterpart', farWidth),
    svg('line', { class: seaward ? 'border-line quay' : 'border-line', x1: gutter, y1: lineY, x2: width, y2: lineY }),
    lanes.length === 0 && label(gutter + 0.5 * rem, (rows.laneBand + 1) * rem, text(view, 'schematic.noLanes'), 'figures', width - gutter - rem, 'start'),
    ...laneColumns,
    ...zones,
  );
}

/** The narrowest a text is squeezed before it is shortened. */
const minimumSqueeze = 0.8;

/**
 * Narrows the texts wider than the room they were given, once laid out: squeezed
 * (`textLength`, the letters' height kept) down to 80 % of their width; beyond that,
 * their short wording if they have one (a lane's direction and number), else shortened
 * with an ellipsis. A narrowed text keeps its whole wording in `data-full`.
 */
export function fitLabels(root: SVGSVGElement): void {
  for (const node of root.querySelectorAll<SVGTextElement>('text[data-fit]')) {
    const room = Number(node.getAttribute('data-fit'));
    let length = node.getComputedTextLength();
    if (length <= room) continue;
    node.setAttribute('data-full', node.textContent ?? '');
    if (node.hasAttribute('data-wrap') && wrap(node, room)) continue;
    const short = node.getAttribute('data-short');
    if (short && length * minimumSqueeze > room) {
      node.textContent = short;
      length = node.getComputedTextLength();
    }
    if (node.childElementCount === 0) {
      const whole = node.textContent ?? '';
      for (let keep = whole.length - 1; length * minimumSqueeze > room && keep > 1; keep -= 1) {
        node.textContent = `${whole.slice(0, keep).trimEnd()}…`;
        length = node.getComputedTextLength();
      }
    }
    if (length > room) {
      node.setAttribute('textLength', String(room));
      node.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }
  }
}

/**
 * Breaks a text onto two lines at the space nearest its middle (the first line keeps the
 * space, so the text reads the same); each line squeezed if it must. False when it has no space.
 */
function wrap(node: SVGTextElement, room: number): boolean {
  const whole = node.textContent ?? '';
  const spaces = [...whole.matchAll(/ /g)].map((m) => m.index).filter((i) => i > 2);
  if (spaces.length === 0) return false;
  const at = spaces.reduce((best, i) => (Math.abs(i - whole.length / 2) < Math.abs(best - whole.length / 2) ? i : best));
  const x = node.getAttribute('x') ?? '0';
  const first = svg('tspan', { x, dy: '-0.55em' }, whole.slice(0, at + 1));
  const second = svg('tspan', { x, dy: '1.1em' }, whole.slice(at + 1));
  node.replaceChildren(first, second);
  for (const line of [first, second]) {
    if (line.getComputedTextLength() > room) {
      line.setAttribute('textLength', String(room));
      line.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }
  }
  return true;
}
