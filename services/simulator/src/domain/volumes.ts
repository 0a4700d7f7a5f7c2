import type { TruckEvent } from '@tower/shared';

/**
 * Default volumes, derived from ../shared/domain/FACTS.md (2025 press figures):
 *
 * - Goods through the zone's gates: "over 3,000 million tonnes" is a slip for about
 *   3 million t a year. At about 25 t per truck that is 120,000 crossings a year,
 *   about 330 a day.
 * - Cross-check by value: 6,293 M USD of Móng Cái trade a year over ~340 trucks a day
 *   is about 51,000 USD per truck, plausible for a mix of electronics and farm produce.
 *   So the zone averages ~340 trucks a day: 14 an hour.
 * - Split between crossings (not in the press: our assumption, documented): Bắc Luân II
 *   (the smart gate, the goods lanes of the Móng Cái – Đông Hưng pair) 50%, Km3+4 (the
 *   busiest point for farm exports) 30%, Ka Long, Pò Hèn, Hoành Mô and Bắc Phong Sinh
 *   5% each. Bắc Luân I takes no trucks: the press puts the gates for people there
 *   (seeds/README.md).
 * - Cargo: the export and import mixes of FACTS.md; at Km3+4, the zone's farm-produce
 *   export point, three quarters of the exports are farm produce.
 * - Direction: exports ≈ 55% of Móng Cái trade (Q1 2025), so 55% export, 45% import.
 * - Peaks: the fruit harvest (May to August) lifts farm exports, and the weeks before
 *   Tết lift everything.
 * - Ports: Vạn Ninh is still being built (phase `construction` in the catalog: no
 *   traffic until it operates), so the press has no figures; we assume a vessel call
 *   every 8 hours at Vạn Ninh once it operates and every 24 hours at Vạn Gia, each
 *   moving 40 to 120 containers.
 *
 * SIM_RATE multiplies all arrival rates of goods (trucks and vessel calls) for demos and
 * load, SIM_PEOPLE_RATE those of people; the `demo` profile (profiles.ts, what `npm
 * start` plays) multiplies both by 3 and plays the run-up to Tết.
 */
export const trucksPerDay = 340;

/**
 * People (FACTS.md): over 8 M crossings in 2025 through the Móng Cái international gate
 * (003:5), about 22,000 a day, entries ≈ exits (Sep 2025: > 732,000). All go through
 * Bắc Luân I's biometric gates (004:13 plans them there; the gates' count and rate are
 * the catalog's assumption), half each way, spread over the day like the trucks and
 * lifted before Tết like them. Not in the press, our assumptions: the documents shown
 * (most cross-border visitors carry a border pass, giấy thông hành) and the share a
 * border officer checks by hand (a face that does not match, a child, a damaged chip).
 */
export const peoplePerDay: Readonly<Record<string, number>> = { 'bac-luan-1': 22_000 };
export const personDocumentMix: Readonly<Record<'passport' | 'border-pass' | 'other', number>> = { 'border-pass': 55, passport: 40, other: 5 };
export const officerCheckShare = 0.05;

export const siteShare: Readonly<Record<string, number>> = {
  'bac-luan-2': 0.5,
  'km3-4-hai-yen': 0.3,
  'ka-long': 0.05,
  'po-hen': 0.05,
  'hoanh-mo': 0.05,
  'bac-phong-sinh': 0.05,
};

export const exportShare = 0.55;

type CargoClass = NonNullable<TruckEvent['cargoClass']>;
export type CargoMix = Readonly<Partial<Record<CargoClass, number>>>;

/** Exports (FACTS.md): farm produce, seafood, consumer goods, electronics, cotton yarn and garments, solar cells. */
const exportCargo: CargoMix = { 'farm-produce': 35, 'frozen-seafood': 15, 'consumer-goods': 15, electronics: 10, textiles: 10, 'solar-cells': 5, other: 10 };
/** Imports (FACTS.md): production inputs such as electronic components and machinery. */
const importCargo: CargoMix = { electronics: 35, machinery: 30, 'consumer-goods': 15, other: 20 };
/** Sites whose exports differ from the zone's mix. */
const exportCargoBySite: Readonly<Record<string, CargoMix>> = {
  // "điểm thông quan Km3+4 là nơi diễn ra hoạt động xuất khẩu nông sản nhộn nhịp nhất" (seed article 000, line 12).
  'km3-4-hai-yen': { 'farm-produce': 75, 'frozen-seafood': 10, 'consumer-goods': 10, other: 5 },
};

/** The cargo weights of a truck at the site in that direction. */
export function cargoMix(site: string, direction: TruckEvent['direction']): CargoMix {
  return direction === 'import' ? importCargo : (exportCargoBySite[site] ?? exportCargo);
}

export const vesselCallEveryHours: Readonly<Record<string, number>> = { 'van-ninh': 8, 'van-gia': 24 };

/** Relative traffic by hour of day (Vietnam time); the gate runs 24/7, quieter at night. */
const hourly = [0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.8, 1.1, 1.4, 1.5, 1.5, 1.3, 1.0, 1.2, 1.4, 1.5, 1.4, 1.2, 1.0, 0.9, 0.8, 0.65, 0.5, 0.4];
const hourlyMean = hourly.reduce((a, b) => a + b, 0) / hourly.length;

/** Lunar New Year dates: traffic climbs in the four weeks before each. */
const tetDates = ['2025-01-29', '2026-02-17', '2027-02-06', '2028-01-26', '2029-02-13', '2030-02-03'].map((d) => Date.parse(`${d}T00:00:00+07:00`));

export function dailyProfile(at: number): number {
  const hour = new Date(at + 7 * 3600_000).getUTCHours();
  return (hourly[hour] as number) / hourlyMean;
}

/** The season's factor on arrivals; `pre-tet` plays the run-up to Tết whatever the date (the demo's busy day). */
export function seasonalFactor(at: number, cargo: 'farm' | 'other', season: 'calendar' | 'pre-tet' = 'calendar'): number {
  if (season === 'pre-tet') return 1.5;
  const month = new Date(at + 7 * 3600_000).getUTCMonth() + 1;
  const beforeTet = tetDates.some((tet) => at < tet && tet - at < 28 * 24 * 3600_000);
  const harvest = cargo === 'farm' && month >= 5 && month <= 8;
  return (beforeTet ? 1.5 : 1) * (harvest ? 1.4 : 1);
}
