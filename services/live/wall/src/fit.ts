/**
 * A wall cannot scroll: a list shows what fits in its box, measured in the page as laid
 * out (the same code at every screen size), and pages or counts the rest.
 */
import { fill } from '@tower/shared/web/dom';

/** The lowest y a child may reach inside `container` (its content box). */
function floor(container: HTMLElement): number {
  const box = container.getBoundingClientRect();
  return box.bottom - parseFloat(getComputedStyle(container).paddingBottom || '0') + 0.5;
}

/** How many of `nodes`, laid out in `container` after `lead`, end inside it (at least one). */
function fitting(container: HTMLElement, lead: readonly Node[], nodes: readonly HTMLElement[]): number {
  fill(container, [...lead, ...nodes]);
  const limit = floor(container);
  let n = 1;
  while (n < nodes.length && nodes[n]!.getBoundingClientRect().bottom <= limit) n += 1;
  return n;
}

/** One page of a paged list: the nodes to show, after `lead` (e.g. a repeated heading). */
export interface Page<T> {
  lead: Node[];
  items: T[];
}

/**
 * Splits `items` into pages that each fit in `container`. `leadFor(item)` gives what a
 * page starting with `item` shows first (a group's heading, repeated); `breaksAfter(item)`
 * is false for an item that must not end a page (a heading).
 */
export function paginate<T extends { node: HTMLElement }>(container: HTMLElement, items: readonly T[], leadFor: (item: T) => Node[], breaksAfter: (item: T) => boolean): Page<T>[] {
  const pages: Page<T>[] = [];
  for (let start = 0; start < items.length; ) {
    const lead = leadFor(items[start]!);
    let end = start + fitting(container, lead, items.slice(start).map((item) => item.node));
    while (end - 1 > start && end < items.length && !breaksAfter(items[end - 1]!)) end -= 1;
    pages.push({ lead, items: items.slice(start, end) });
    start = end;
  }
  return pages;
}

/** Shows as many of `nodes` as fit in `container` (from the first); returns how many are hidden. */
export function fitFirst(container: HTMLElement, nodes: readonly HTMLElement[]): number {
  if (nodes.length === 0) return 0;
  let shown = fitting(container, [], nodes);
  if (nodes[shown - 1]!.getBoundingClientRect().bottom > floor(container)) shown -= 1;
  if (shown < nodes.length) fill(container, nodes.slice(0, shown));
  return nodes.length - shown;
}
