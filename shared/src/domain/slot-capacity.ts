import type { SiteCatalogDocument } from '../catalog/schema.ts';

/** One window of one lane group (lane kind and direction) at one site. */
export interface SlotWindowRef {
  site: string;
  laneKind: string;
  direction: string;
  windowStart: number;
}

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
/** Vietnam time, UTC+7 all year (no daylight saving): templates are in the gate's own hours. */
const vietnamOffsetMs = 7 * hourMs;

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
 * smart gate's 24/7 aim), at the mean nominal rate of its group's lanes.
 */
export function roundTheClockPlan(catalog: SiteCatalogDocument): CapacityPlan {
  const lanes = new Map<string, number[]>();
  for (const site of catalog.sites) {
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
