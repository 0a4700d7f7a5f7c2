/**
 * The wall's colours, declared once: main.ts sets them as CSS custom properties, and
 * palette.test.ts checks them (WCAG contrast of every text pair, state colours still
 * apart under simulated protanopia and deuteranopia). Colour is never the only signal:
 * every state also has a shape and a word (see `stateIcons` and the dictionaries).
 */
export type Rgb = readonly [number, number, number];

export const palette = {
  bg: '#0b1622',
  panel: '#122233',
  line: '#2c4259',
  text: '#eef3f8',
  muted: '#a9bccf',
  /** Text on a state-coloured chip. */
  ink: '#0b1622',
  open: '#30c0d0',
  congested: '#f5c04a',
  fault: '#ff7a7a',
  closed: '#4f5d6e',
  unknown: '#33465a',
  /** The selected site's row, the alert cards. */
  raised: '#1b3047',
  chartTrucks: '#5fd4f0',
  chartContainers: '#f5a25d',
} as const;

export type PaletteName = keyof typeof palette;

/** The lane states with their own colour (their tints are the tile backgrounds). */
export const stateColours = ['open', 'congested', 'fault', 'closed'] as const;
export type StateColour = (typeof stateColours)[number];

/** The chips (state words on their colour): dark ink on the light colours, light text on the dark ones. */
export const chipStates = [...stateColours, 'unknown'] as const;
export const chipText = (state: (typeof chipStates)[number]): PaletteName => (state === 'closed' || state === 'unknown' ? 'text' : 'ink');

/** How much of a state's colour tints a tile over the panel. */
export const tintShare = 0.22;

export function parseHex(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const toHex = (rgb: Rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;

/** `share` of `colour` over `base` (as CSS color-mix in srgb would). */
export function mix(colour: string, base: string, share: number): string {
  const a = parseHex(colour);
  const b = parseHex(base);
  return toHex([0, 1, 2].map((i) => a[i]! * share + b[i]! * (1 - share)) as unknown as Rgb);
}

/** A state's tile background. */
export const tint = (state: StateColour | 'unknown') => mix(palette[state], palette.panel, tintShare);

/** The custom properties the stylesheet reads (`--open`, `--open-tint`, …). */
export function cssProperties(): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(palette)) properties[`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = value;
  for (const state of chipStates) properties[`--${state}-tint`] = tint(state);
  return properties;
}

const linear = (channel: number) => {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};

/** WCAG 2 relative luminance. */
export function luminance(hex: string): number {
  const [r, g, b] = parseHex(hex).map(linear) as unknown as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio, 1..21. */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/**
 * Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of
 * Color Vision Deficiency", severity 1.0, applied to linear RGB.
 */
export const machado2009: Readonly<Record<'protanopia' | 'deuteranopia', readonly Rgb[]>> = {
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
};

const encode = (c: number) => 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);

/** The colour as a viewer with the given deficiency sees it. */
export function simulate(hex: string, deficiency: keyof typeof machado2009): string {
  const rgb = parseHex(hex).map(linear);
  const seen = machado2009[deficiency].map((row) => row[0] * rgb[0]! + row[1] * rgb[1]! + row[2] * rgb[2]!);
  return toHex(seen.map((c) => Math.min(255, Math.max(0, encode(Math.min(1, Math.max(0, c)))))) as unknown as Rgb);
}

/** CIE L*a*b* (D65) of an sRGB colour. */
export function lab(hex: string): Rgb {
  const [r, g, b] = parseHex(hex).map(linear) as unknown as Rgb;
  const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = xyz.map(f) as unknown as Rgb;
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIE76 colour difference (ΔE*ab). */
export function deltaE(a: string, b: string): number {
  const [l1, a1, b1] = lab(a);
  const [l2, a2, b2] = lab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

/**
 * Every text colour the stylesheet puts on a background, by palette name or tint: the
 * contrast test walks this list (keep it in step with style.css).
 */
export const textPairs: readonly { what: string; text: PaletteName; on: PaletteName | `${StateColour | 'unknown'}-tint` }[] = [
  { what: 'body text', text: 'text', on: 'bg' },
  { what: 'panel text', text: 'text', on: 'panel' },
  { what: 'labels and notes', text: 'muted', on: 'panel' },
  { what: 'labels on the page', text: 'muted', on: 'bg' },
  { what: 'alert cards, selected site', text: 'text', on: 'raised' },
  { what: 'alert card details', text: 'muted', on: 'raised' },
  ...chipStates.map((state) => ({ what: `a ${state} chip (badge, lane state, alert severity)`, text: chipText(state), on: state })),
  ...[...stateColours, 'unknown' as const].flatMap((state) => [
    { what: `a ${state} lane tile`, text: 'text' as const, on: `${state}-tint` as const },
    { what: `a ${state} lane tile's figures`, text: 'muted' as const, on: `${state}-tint` as const },
  ]),
  { what: 'a good figure, an open lane’s icon', text: 'open', on: 'panel' },
  { what: 'a bad figure, a fault’s icon', text: 'fault', on: 'panel' },
  { what: 'a congested lane’s icon', text: 'congested', on: 'panel' },
  { what: 'the acknowledge button', text: 'bg', on: 'text' },
  { what: 'the chart’s trucks axis', text: 'chartTrucks', on: 'panel' },
  { what: 'the chart’s containers axis', text: 'chartContainers', on: 'panel' },
];

/** The colour a pair's `on` names. */
export const background = (on: (typeof textPairs)[number]['on']) => (on.endsWith('-tint') ? tint(on.slice(0, -'-tint'.length) as StateColour) : palette[on as PaletteName]);
