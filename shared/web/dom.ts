/**
 * The built pages (the wall, the booking page) build their DOM from nodes, never from HTML
 * strings: whatever a feed, an answer or the catalog holds (names, ids, plates, who
 * acknowledged) becomes text or attribute values, never markup. No `style` attributes either (the page's CSP has no 'unsafe-inline'): widths are
 * set through `element.style`.
 */
export type Child = Node | string | false | null | undefined;

export interface Properties {
  class?: string;
  /** `data-*` attributes, by their dataset name. */
  data?: Record<string, string>;
  /** Other attributes (never `style` or event handlers: they are not data). */
  attrs?: Record<string, string>;
}

/** An element with its properties and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Properties = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (properties.class) element.className = properties.class;
  for (const [name, value] of Object.entries(properties.data ?? {})) element.dataset[name] = value;
  for (const [name, value] of Object.entries(properties.attrs ?? {})) element.setAttribute(name, value);
  element.append(...present(children));
  return element;
}

const present = (children: readonly Child[]) => children.filter((child): child is Node | string => child !== false && child !== null && child !== undefined);

/**
 * An SVG element with its attributes (numbers written as they are: SVG user units) and
 * children; strings become text nodes. Like `h`, never markup, never `style`.
 */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, typeof value === 'number' ? String(Math.round(value * 10) / 10) : value);
  element.append(...present(children));
  return element;
}

/** Replaces a container's content with the given nodes. */
export function fill(container: Element, nodes: readonly Node[]): void {
  container.replaceChildren(...nodes);
}
