import fs from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { sitePhase } from '../catalog/catalog.ts';
import type { SiteCatalogDocument } from '../catalog/schema.ts';
import { vietnamOffsetMs } from './vietnam-time.ts';

/** One window of one lane group (lane kind and direction) at one site. */
export interface SlotWindowRef {
  site: string;
  laneKind: string;
  direction: string;
  windowStart: number;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/** Lane kinds a truck books a crossing on (weighbridges, scanners and checkpoints are steps, not crossings). */
export const bookableLaneKinds: ReadonlySet<string> = new Set(['smart', 'igv', 'manual', 'port-gate']);

export const laneGroupOf = (w: Pick<SlotWindowRef, 'site' | 'laneKind' | 'direction'>) => `${w.site}|${w.laneKind}|${w.direction}`;

/**
 * How many dedicated lanes of each lane group are open, hour by hour, as the gate plans
 * them: a week of templates (day 0 = Sunday, Vietnam time, 24 hours each) and dated
 * overrides (Tết, closures, a festival day) that replace a whole day of a group.
 */
export interface CapacityPlan {
  /** Lane group → 7 days × 24 hours of open lanes. */
  weekly: Readonly<Record<string, readonly (readonly number[])[]>>;
  /** `YYYY-MM-DD` (Vietnam date) → lane group → 24 hours of open lanes. */
  overrides: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>>;
  /** Lane group → nominal trucks per hour of one open lane. */
  ratePerLaneHour: Readonly<Record<string, number>>;
}

/** Vietnam date, weekday (0 = Sunday) and hour of an instant. */
export function vietnamCalendar(ms: number): { date: string; weekday: number; hour: number } {
  const local = ms + vietnamOffsetMs;
  const day = Math.floor(local / dayMs);
  return { date: new Date(day * dayMs).toISOString().slice(0, 10), weekday: (day + 4) % 7, hour: Math.floor((local - day * dayMs) / hourMs) };
}

/**
 * The places of one window: lanes open in the hour the window starts × the nominal rate
 * × the window's length, rounded down. A group the plan does not know has no places.
 */
export function plannedCapacity(plan: CapacityPlan, window: SlotWindowRef, windowMs: number): number {
  const group = laneGroupOf(window);
  const { date, weekday, hour } = vietnamCalendar(window.windowStart);
  const lanesOpen = plan.overrides[date]?.[group]?.[hour] ?? plan.weekly[group]?.[weekday]?.[hour] ?? 0;
  return Math.floor((lanesOpen * (plan.ratePerLaneHour[group] ?? 0) * windowMs) / hourMs);
}

/**
 * The default plan from the site catalog: every bookable lane open around the clock (the
 * smart gate's 24/7 aim), at the mean nominal rate of its group's lanes. A site being
 * built (phase `construction`, Vạn Ninh) takes no bookings: none of its groups is in it.
 */
export function roundTheClockPlan(catalog: SiteCatalogDocument): CapacityPlan {
  const lanes = new Map<string, number[]>();
  for (const site of catalog.sites) {
    if (sitePhase(site) !== 'operating') continue;
    for (const lane of site.lanes) {
      if (!bookableLaneKinds.has(lane.kind) || !lane.direction) continue;
      const group = laneGroupOf({ site: site.id, laneKind: lane.kind, direction: lane.direction });
      lanes.set(group, [...(lanes.get(group) ?? []), lane.serviceRatePerHour]);
    }
  }
  const weekly: Record<string, number[][]> = {};
  const ratePerLaneHour: Record<string, number> = {};
  for (const [group, rates] of lanes) {
    weekly[group] = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => rates.length));
    ratePerLaneHour[group] = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
  }
  return { weekly, overrides: {}, ratePerLaneHour };
}

const hours = (description: string) => Type.Array(Type.Integer({ minimum: 0, maximum: 50 }), { minItems: 24, maxItems: 24, description });

/**
 * A capacity plan file (`CAPACITY_PLAN_FILE`): what the gate plans differs from the
 * catalog's default (every lane open 24/7). Lane groups are `<site>|<lane kind>|<direction>`;
 * a group the file leaves out keeps the default; `overrides` replace whole days (Vietnam
 * dates) of a group, e.g. Tết.
 */
export const CapacityPlanFile = Type.Object(
  {
    version: Type.Literal(1),
    weekly: Type.Optional(Type.Record(Type.String(), Type.Array(hours('open lanes hour by hour, 00:00–23:00 Vietnam time'), { minItems: 7, maxItems: 7, description: 'Sunday first' }))),
    overrides: Type.Optional(Type.Record(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Record(Type.String(), hours('open lanes that day, hour by hour')))),
    ratePerLaneHour: Type.Optional(Type.Record(Type.String(), Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }))),
  },
  { additionalProperties: false },
);
export type CapacityPlanFile = Static<typeof CapacityPlanFile>;

const checkPlanFile = TypeCompiler.Compile(CapacityPlanFile);

/**
 * The plan of a file laid over the catalog's default, checked: every group must be a
 * bookable lane group of an operating site of the catalog, with no more lanes open than
 * it has, and every date a real one. Throws one error naming the file, the place and the reason.
 */
export function capacityPlanOf(catalog: SiteCatalogDocument, document: unknown, source: string): CapacityPlan {
  const base = roundTheClockPlan(catalog);
  const first = checkPlanFile.Errors(document).First();
  if (first) throw new Error(`capacity plan ${source} is invalid at ${first.path || '/'}: ${first.message}`);
  const file = document as CapacityPlanFile;
  const lanesOf = (group: string) => base.weekly[group]?.[0]?.[0];
  const building = new Set(catalog.sites.filter((site) => sitePhase(site) !== 'operating').map((site) => site.id));
  const checkGroup = (group: string, where: string, days: readonly (readonly number[])[]) => {
    const lanes = lanesOf(group);
    const site = group.split('|')[0] ?? '';
    if (building.has(site)) throw new Error(`capacity plan ${source} is invalid at ${where}: site ${site} is under construction and takes no bookings`);
    if (lanes === undefined) throw new Error(`capacity plan ${source} is invalid at ${where}: '${group}' is not a bookable lane group of the catalog (${Object.keys(base.weekly).join(', ')})`);
    if (days.some((day) => day.some((open) => open > lanes))) throw new Error(`capacity plan ${source} is invalid at ${where}: more than the ${lanes} lane(s) the group has`);
  };
  for (const [group, days] of Object.entries(file.weekly ?? {})) checkGroup(group, `/weekly/${group}`, days);
  for (const [date, groups] of Object.entries(file.overrides ?? {})) {
    if (Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) throw new Error(`capacity plan ${source} is invalid at /overrides/${date}: not a date`);
    for (const [group, day] of Object.entries(groups)) checkGroup(group, `/overrides/${date}/${group}`, [day]);
  }
  for (const group of Object.keys(file.ratePerLaneHour ?? {})) checkGroup(group, `/ratePerLaneHour/${group}`, []);
  return {
    weekly: { ...base.weekly, ...file.weekly },
    overrides: file.overrides ?? {},
    ratePerLaneHour: { ...base.ratePerLaneHour, ...file.ratePerLaneHour },
  };
}

/** The plan the services run with: the file's when `file` is set, else the catalog's default. */
export function loadCapacityPlan(catalog: SiteCatalogDocument, file: string | undefined): CapacityPlan {
  if (file === undefined) return roundTheClockPlan(catalog);
  if (!fs.existsSync(file)) throw new Error(`capacity plan ${file} does not exist (CAPACITY_PLAN_FILE)`);
  return capacityPlanOf(catalog, JSON.parse(fs.readFileSync(file, 'utf8')), file);
}
