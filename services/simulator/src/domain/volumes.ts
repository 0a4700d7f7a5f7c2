import type { TruckEvent } from '@tower/shared';

/**
 * Default volumes, derived from ../shared/domain/FACTS.md (2025 press figures; seed
 * articles cited as article:line):
 *
 * - Goods through the border gates: "trên 3.000 triệu tấn" (003:3) is a slip for about
 *   3 million t a year; the trade value is 6,458.8 M USD, 6,293.21 M USD of it through
 *   the Móng Cái branch (003:3).
 * - Land and sea apart: these figures count every gate of the zone, and the gates listed
 *   with Guangxi include a seaport, "cảng biển (cảng Vạn Gia)" (001:3), so goods by sea
 *   are in them. The press gives no split: **our assumption** is that 10 % of the
 *   weight and value goes by sea through Vạn Gia (`seaborneShare`), 90 % by land.
 * - Trucks: the land share at about 25 t of goods per truck is 108,000 crossings a year,
 *   296 a day (14 an hour at the day's peak hours, fewer at night). Cross-check by value:
 *   90 % of 6,293 M USD over 108,000 trucks is about 52,000 USD per truck, plausible for
 *   a mix of electronics and farm produce.
 * - Vạn Gia: the sea share at about 20 t of goods per full container (an assumption) is
 *   15,000 containers a year, 41 a day, 55 % export like the land (below), carried by
 *   small vessels calling every 12 hours (an assumption: Vạn Gia is an anchorage for
 *   coasters, not a deep-water berth); see `portCalls`.
 * - Split between crossings (not in the press: our assumption, documented): Bắc Luân II
 *   (the smart gate, the goods lanes of the Móng Cái – Đông Hưng pair) 50%, Km3+4 (the
 *   busiest point for farm exports) 30%, Ka Long, Pò Hèn, Hoành Mô and Bắc Phong Sinh
 *   5% each. Bắc Luân I takes no trucks: the press puts the gates for people there
 *   (seeds/README.md).
 * - Cargo: the export and import mixes of FACTS.md; at Km3+4, the zone's farm-produce
 *   export point, three quarters of the exports are farm produce.
 * - Direction: exports ≈ 55% of Móng Cái trade (Q1 2025, 000:14), so 55% export, 45% import.
 * - Peaks: the fruit harvest (May to August) lifts farm exports, and the weeks before
 *   Tết lift everything.
 * - Vạn Ninh is still being built (phase `construction` in the catalog: no traffic until
 *   it operates; 002:33), so the press has no figures for it; once it operates we assume
 *   a call every 8 hours moving 40 to 120 containers each way.
 *
 * SIM_RATE multiplies all arrival rates of goods (trucks and vessel calls) for demos and
 * load, SIM_PEOPLE_RATE those of people; the `demo` profile (profiles.ts, what `npm
 * start` plays) multiplies both by 3 and plays the run-up to Tết.
 */
export const goodsTonnesPerYear = 3_000_000;
/** Share of the border gates' goods that goes by sea, through Vạn Gia: our assumption (the press gives none). */
export const seaborneShare = 0.1;
/** Goods per truck and per full container, t: our assumptions. */
export const tonnesPerTruck = 25;
export const tonnesPerContainer = 20;

const perDay = (tonnesPerYear: number, tonnesEach: number) => tonnesPerYear / tonnesEach / 365;

/** Trucks a day over the land crossings: the land share of the weight. */
export const trucksPerDay = Math.round(perDay(goodsTonnesPerYear * (1 - seaborneShare), tonnesPerTruck));
/** Full containers a day through Vạn Gia, both ways: the sea share of the weight. */
export const seaborneContainersPerDay = perDay(goodsTonnesPerYear * seaborneShare, tonnesPerContainer);

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

/** A port's vessel calls: how often, how many containers discharged, and export boxes arriving at the gate to load. */
export interface PortCalls {
  everyHours: number;
  /** Containers discharged per call, at least and at most (uniform). */
  discharges: readonly [number, number];
  /** Export containers brought in through the port gate per hour, loaded on the next call. */
  exportsPerHour: number;
}

/** Vạn Gia's seaborne share: small vessels every 12 hours, imports discharged, exports loaded (see above). */
function seaborneCalls(everyHours: number): PortCalls {
  const importsPerCall = (seaborneContainersPerDay * (1 - exportShare) * everyHours) / 24;
  return {
    everyHours,
    discharges: [Math.round(importsPerCall / 2), Math.round((importsPerCall * 3) / 2)],
    exportsPerHour: (seaborneContainersPerDay * exportShare) / 24,
  };
}

export const portCalls: Readonly<Record<string, PortCalls>> = {
  'van-ninh': { everyHours: 8, discharges: [40, 120], exportsPerHour: 60 / 8 },
  'van-gia': seaborneCalls(12),
};

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
