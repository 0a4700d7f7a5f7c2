import { describe, expect, it } from 'vitest';
import { background, chipStates, chipText, contrast, deltaE, machado2009, palette, simulate, stateColours, textPairs } from './palette.ts';

/** ΔE*ab two state colours keep at least, seen by every viewer (the replaced palette had 18.6 and 21.4). */
const minimumDeltaE = 30;

describe('the wall’s palette', () => {
  it('gives every text at least 4.5:1 against its background (WCAG AA), the connection badge included', () => {
    const failing = textPairs.map((pair) => ({ ...pair, ratio: contrast(palette[pair.text], background(pair.on)) })).filter((pair) => pair.ratio < 4.5);
    expect(failing).toEqual([]);
    // The badge "Trực tuyến" is an open chip: dark ink on the open colour (white on green was 2.77:1).
    expect(contrast(palette[chipText('open')], palette.open)).toBeGreaterThanOrEqual(4.5);
    expect(chipStates.every((state) => textPairs.some((pair) => pair.on === state))).toBe(true);
  });

  it('keeps the four lane states apart for normal vision and under simulated protanopia and deuteranopia (Machado 2009)', () => {
    for (const vision of ['normal', ...Object.keys(machado2009)] as const) {
      const seen = (state: (typeof stateColours)[number]) => (vision === 'normal' ? palette[state] : simulate(palette[state], vision as keyof typeof machado2009));
      for (const [i, a] of stateColours.entries())
        for (const b of stateColours.slice(i + 1)) expect(deltaE(seen(a), seen(b)), `${a} vs ${b}, ${vision}`).toBeGreaterThanOrEqual(minimumDeltaE);
    }
  });

  it('simulates colour vision as the published matrices do', () => {
    // Pure red is the matrix's first column, sRGB-encoded: 0.152286 → 0x6d, 0.114503 → 0x5f, below 0 → 0 (dark olive for a protanope); grey stays grey.
    expect(simulate('#ff0000', 'protanopia')).toBe('#6d5f00');
    expect(simulate('#808080', 'deuteranopia')).toBe('#808080');
    // The colours this palette replaced fail the rule: green #38a169 / red #e53e3e for a protanope, amber #d69e2e / red for a deuteranope.
    expect(deltaE(simulate('#38a169', 'protanopia'), simulate('#e53e3e', 'protanopia'))).toBeLessThan(minimumDeltaE);
    expect(deltaE(simulate('#d69e2e', 'deuteranopia'), simulate('#e53e3e', 'deuteranopia'))).toBeLessThan(minimumDeltaE);
  });
});
