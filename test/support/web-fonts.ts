import type { Page } from 'playwright-core';

/**
 * The text on a page that a font of the machine drew rather than one the page shipped:
 * a character no web font covers falls back to whatever the machine has (here DejaVu,
 * on a control room PC maybe nothing: a box instead of 中文). Chromium says which fonts
 * it drew each element's text with (DevTools' CSS.getPlatformFontsForNode, the
 * "Rendered fonts" of its Computed pane): every glyph of every text shown, ::before and
 * ::after content too, must come from a web font (`isCustomFont`). Elements not drawn
 * (hidden) have no fonts and pass. Returns one line per element, its text and the
 * machine's fonts it used; empty when the shipped fonts drew everything.
 */
export async function textInMachineFonts(page: Page): Promise<string[]> {
  const devtools = await page.context().newCDPSession(page);
  try {
    await devtools.send('DOM.enable');
    await devtools.send('CSS.enable');
    const { root } = await devtools.send('DOM.getDocument', { depth: -1, pierce: false });
    const found: string[] = [];
    for (const { node, text } of textElements(root)) {
      // The page redraws as data arrives: a node gone since the tree was read has no fonts to tell.
      const drawn = await devtools.send('CSS.getPlatformFontsForNode', { nodeId: node.nodeId }).catch(() => ({ fonts: [] }));
      const machine = drawn.fonts.filter((font) => !font.isCustomFont);
      if (machine.length > 0) found.push(`${describe(node)} "${text}": ${machine.map((font) => `${font.familyName} (${font.glyphCount} glyphs)`).join(', ')}`);
    }
    return found;
  } finally {
    await devtools.detach();
  }
}

/** What DevTools' DOM.getDocument tells of a node (the part used here). */
interface DomNode {
  nodeId: number;
  nodeType: number;
  nodeName: string;
  localName: string;
  nodeValue: string;
  attributes?: string[];
  children?: DomNode[];
  pseudoElements?: DomNode[];
  pseudoType?: string;
  contentDocument?: DomNode;
}

/** Every element of the tree with text of its own (its text children, or its ::before/::after content), with that text. */
function* textElements(node: DomNode): Generator<{ node: DomNode; text: string }> {
  const own = (node.children ?? []).filter((child) => child.nodeType === 3).map((child) => child.nodeValue).join('').trim();
  if (node.nodeType === 1 && own) yield { node, text: own };
  for (const pseudo of node.pseudoElements ?? []) yield { node: pseudo, text: `::${pseudo.pseudoType}` };
  for (const child of [...(node.children ?? []), ...(node.contentDocument ? [node.contentDocument] : [])]) yield* textElements(child);
}

function describe(node: DomNode): string {
  const attributes = node.attributes ?? [];
  const attribute = (name: string) => {
    const at = attributes.indexOf(name);
    return at >= 0 && at % 2 === 0 ? attributes[at + 1] : undefined;
  };
  const id = attribute('id');
  const classes = attribute('class')?.trim().split(/\s+/).join('.');
  return `${node.localName || node.nodeName.toLowerCase()}${id ? `#${id}` : ''}${classes ? `.${classes}` : ''}`;
}
