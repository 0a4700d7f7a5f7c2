/*
 * Runs in the wall's page (page.evaluate in test/wall.int.test.ts): the layout as the
 * browser laid it out. The document's size; panels or items outside their box;
 * overlapping panels, tiles or list items; text a KPI tile cuts off (clamped, ellipsed
 * or sticking out of its box); the schematic's texts (as far as their letters reach) outside it or over each other; the
 * smallest font of any visible text (the schematic's SVG text too); and lane, crossing,
 * alert and connection states shown without their icon and word.
 * Plain JavaScript: the browser runs it as it is.
 */
(() => {
  const words = {
    open: { icon: '✔', word: 'Mở' }, congested: { icon: '▲', word: 'Ùn tắc' }, fault: { icon: '✖', word: 'Sự cố' }, closed: { icon: '■', word: 'Đóng' }, unknown: { icon: '?', word: 'Chưa rõ' },
    construction: { icon: '⚒', word: 'Đang xây dựng' },
  };
  const box = (e) => e.getBoundingClientRect();
  const name = (e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className && typeof e.className === 'string' ? `.${e.className.split(' ').join('.')}` : ''}${e.dataset?.['lane'] ? `[${e.dataset['lane']}]` : ''}`;
  const inside = (inner, outer) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const where = (r) => `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)},${Math.round(r.bottom)}]`;
  const screen = new DOMRect(0, 0, innerWidth, innerHeight);
  const panels = [document.querySelector('.top'), ...document.querySelectorAll('.wall > section'), ...document.querySelectorAll('.kpis .tile')];
  const outside = [];
  const overlaps = [];
  for (const panel of panels) if (!inside(box(panel), screen)) outside.push(name(panel));
  const boxed = [...document.querySelectorAll('.wall > section')].filter((p) => !p.classList.contains('kpis'));
  for (const [i, a] of boxed.entries()) for (const b of boxed.slice(i + 1)) if (overlap(box(a), box(b))) overlaps.push(`${name(a)} / ${name(b)}`);
  const tiles = [...document.querySelectorAll('.kpis .tile')];
  for (const [i, a] of tiles.entries()) for (const b of tiles.slice(i + 1)) if (overlap(box(a), box(b))) overlaps.push(`${name(a)} / ${name(b)}`);
  for (const panel of boxed) {
    const list = panel.querySelector('ol, #chart');
    const items = [...panel.querySelectorAll(':scope > ol > li, #chart .units, #chart .u-wrap')];
    for (const item of items) if (!inside(box(item), box(list ?? panel)) || !inside(box(item), box(panel))) outside.push(`${name(item)} ${where(box(item))} in ${name(panel)} ${where(box(list ?? panel))}`);
    const listed = [...panel.querySelectorAll(':scope > ol > li')];
    for (const [i, a] of listed.entries()) for (const b of listed.slice(i + 1)) if (overlap(box(a), box(b))) overlaps.push(`${name(a)} / ${name(b)}`);
  }
  for (const tile of tiles) for (const part of tile.children) if (!inside(box(part), box(tile))) outside.push(`${name(part)} in a KPI tile`);
  // A tile's text is whole: no box holds more than it shows (line clamp, ellipsis, overflow hidden), no part sticks out of the tile.
  const clipped = [];
  for (const tile of tiles) {
    const edge = box(tile);
    for (const part of tile.querySelectorAll('*')) {
      const cut = part.clientWidth > 0 && (part.scrollWidth > part.clientWidth + 1 || part.scrollHeight > part.clientHeight + 1);
      if (cut || !inside(box(part), edge)) clipped.push(`${tile.dataset['kpi']} ${name(part)} "${part.textContent}" ${part.scrollWidth}x${part.scrollHeight} in ${part.clientWidth}x${part.clientHeight}`);
    }
  }
  // The schematic (one SVG): every text inside the drawing and its panel, no two texts over each other; the texts narrowed to fit.
  const zone = document.querySelector('#zone');
  const drawing = zone?.querySelector('svg');
  const drawn = drawing ? [...drawing.querySelectorAll('text')].filter((t) => t.textContent.trim() && t.getClientRects().length > 0) : [];
  // A text as far as its letters reach: the box the browser gives an SVG text spans its fonts' whole ascent and descent on every
  // line, and Noto Sans's (1.36 em, room for Vietnamese stacked marks) is taller than the letters of most words. Across, the
  // browser's box; up and down, the ink of the text's letters (a canvas measures them in its font) about each line's baseline.
  const measure = document.createElement('canvas').getContext('2d');
  const ink = (t) => {
    const across = box(t);
    const style = getComputedStyle(t);
    measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const letters = measure.measureText(t.textContent);
    const toScreen = t.getScreenCTM();
    const baselines = new Set();
    for (let i = 0; i < t.getNumberOfChars(); i += 1) baselines.add(t.getStartPositionOfChar(i).matrixTransform(toScreen).y);
    const top = Math.min(...baselines) - letters.actualBoundingBoxAscent;
    const bottom = Math.max(...baselines) + letters.actualBoundingBoxDescent;
    return new DOMRect(across.left, top, across.width, bottom - top);
  };
  const inked = new Map(drawn.map((t) => [t, ink(t)]));
  const svgText = (t) => `svg text "${t.textContent}" ${where(inked.get(t))}`;
  for (const t of drawn) if (!inside(inked.get(t), box(drawing)) || !inside(inked.get(t), box(zone))) outside.push(`${svgText(t)} in ${where(box(drawing))}`);
  for (const [i, a] of drawn.entries()) for (const b of drawn.slice(i + 1)) if (overlap(inked.get(a), inked.get(b))) overlaps.push(`${svgText(a)} / ${svgText(b)}`);
  const narrowed = drawn.filter((t) => t.hasAttribute('data-full')).map((t) => `${t.getAttribute('data-full')} → ${t.textContent} (${t.getAttribute('textLength') ?? 'whole'} of ${Math.round(t.getComputedTextLength())} px)`);
  let smallestFontPx = Infinity;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !node.textContent?.trim() || parent.closest('[hidden]') || parent.getClientRects().length === 0) continue;
    smallestFontPx = Math.min(smallestFontPx, parseFloat(getComputedStyle(parent).fontSize));
  }
  const unlabelled = [];
  const lanes = [...document.querySelectorAll('#lanes li.lane')];
  for (const lane of lanes) {
    const expected = words[lane.dataset['status']];
    const chip = lane.querySelector('.chip');
    if (chip?.querySelector('.icon')?.textContent !== expected['icon'] || !chip.textContent?.endsWith(expected['word'])) unlabelled.push(`lane ${lane.dataset['lane']}: ${chip?.textContent}`);
  }
  // Each crossing of the schematic (and each lane of a site's): a band with the icon and the word of its state.
  const crossings = [...document.querySelectorAll('#zone g.crossing, #zone g.lane')];
  for (const item of crossings) {
    const expected = words[item.getAttribute('data-status')];
    if (item.querySelector('.band-text')?.textContent !== `${expected?.['icon']} ${expected?.['word']}`) unlabelled.push(`${item.getAttribute('data-site') ?? item.getAttribute('data-lane')}: ${item.querySelector('.band-text')?.textContent}`);
  }
  for (const alert of document.querySelectorAll('#alerts li[data-severity]')) if (!alert.querySelector('.chip .icon')?.textContent || !alert.querySelector('.chip')?.textContent?.match(/Nghiêm trọng|Chú ý/)) unlabelled.push(`alert ${alert.dataset['alert']}`);
  const badge = document.querySelector('#connection')?.textContent ?? '';
  if (!/^[✔↻✖] /.test(badge)) unlabelled.push(`connection badge ${badge}`);
  const pages = Number(document.querySelector('#lanes').dataset['pages']);
  const shown = new Set(lanes.map((l) => l.dataset['lane']));
  return {
    documentHeight: document.documentElement.scrollHeight,
    documentWidth: document.documentElement.scrollWidth,
    outside,
    overlaps,
    clipped,
    narrowed,
    smallestFontPx,
    unlabelled,
    pages,
    page: Number(document.querySelector('#lanes').dataset['page']),
    pageIndicator: document.querySelector('#lanes-page')?.textContent,
    lanesShown: shown.size,
    // Lanes counted by state on the schematic's markers.
    lanesCounted: [...document.querySelectorAll('#zone g.crossing .marker .count')].reduce((sum, count) => sum + Number(count.textContent.replace(/\D/g, '')), 0),
    statusesShown: [...new Set([...document.querySelectorAll('#zone g.crossing')].map((g) => g.getAttribute('data-status')))],
    // The schematic as drawn: each crossing west to east (or each lane of the site), its counterpart and its state's icon and word.
    schematic: crossings.map((item) => ({ id: item.getAttribute('data-site') ?? item.getAttribute('data-lane'), counterpart: item.querySelector('.counterpart')?.textContent ?? null, state: item.querySelector('.band-text')?.textContent ?? null })),
    firstLaneStatus: lanes[0]?.dataset['status'] ?? null,
  };
})();
