import type { TruckEvent } from '@tower/shared';

/**
 * What the simulator plays (`SIM_PROFILE`).
 *
 * - `real`: the press-derived volumes of volumes.ts, the season of the calendar, lane
 *   faults at random (about one per lane every two days). Calm, as the zone is on an
 *   average day: a few trucks an hour at most crossings.
 * - `demo` (what `npm start` plays): a busy day. The run-up to Tết (×1.5 for every
 *   cargo, whatever the date) at three times the yearly average of the press figures
 *   (×4.5 in all, about 1,330 trucks a day), and a script of incidents that starts with
 *   the simulator and repeats every three hours, so that each alert rule of the wall
 *   fires within the first ten minutes (see `demoScript`).
 *
 * SIM_RATE multiplies either profile's arrival rates.
 */
export const simProfiles = ['demo', 'real'] as const;
export type SimProfile = (typeof simProfiles)[number];

/** A scripted incident, `atMinute` minutes after the script (re)starts. */
export type Episode =
  | { kind: 'fault'; lane: string; atMinute: number; minutes: number; faultCode: string }
  /** Trucks of one cargo arriving together at a site, evenly over `minutes`; customs hold `holdShare` of them. */
  | { kind: 'convoy'; site: string; direction: TruckEvent['direction']; cargoClass: NonNullable<TruckEvent['cargoClass']>; atMinute: number; minutes: number; trucks: number; holdShare: number }
  /** The lanes' steps take `factor` times as long. */
  | { kind: 'slowdown'; lanes: readonly string[]; atMinute: number; minutes: number; factor: number };

export interface TrafficProfile {
  /** Multiplies the press-derived arrival rates (before SIM_RATE). */
  volumeFactor: number;
  /** `calendar`: the season of the simulated date; `pre-tet`: the run-up to Tết every day. */
  season: 'calendar' | 'pre-tet';
  episodes: readonly Episode[];
  /** The script restarts this often (minutes). */
  repeatEveryMinutes: number;
}

/**
 * The demo's incidents, one story per alert rule of services/live/src/domain/alerts.ts
 * (the thresholds are the defaults there):
 *
 * - Km3+4, the zone's farm-produce export point: the barrier of export lane 1 sticks at
 *   minute 1 for 15 minutes (**lane fault**) while a fruit convoy of 36 trucks arrives
 *   over 5 minutes. It queues at export lane 2 (**queue ≥ 30**), a manual lane that
 *   clears a truck every few minutes, so the lane moves far fewer than 30 % of its
 *   nominal 30 trucks/h while 10 or more wait (**below nominal**). The queue takes a
 *   couple of hours to drain.
 * - Bắc Luân II: a convoy of 40 export trucks over 4 minutes meets a slow X-ray
 *   scanner link (the smart export lanes' steps take 3× as long for 20 minutes): the
 *   site's smart-lane p95 clearance of the trucks that passed goes past the 15 s target
 *   on 20 and more of them, the tile's minimum sample, even at night when few other
 *   trucks come (**clearance over target**), and customs hold a third of the convoy for checks,
 *   far above the day's hourly average (**customs-hold spike**; it needs the run to
 *   start after 03:00 Vietnam time, when the day's average has at least three hours).
 */
export const demoScript: readonly Episode[] = [
  { kind: 'fault', lane: 'km34-manual-ex-1', atMinute: 1, minutes: 15, faultCode: 'BARRIER-STUCK' },
  { kind: 'convoy', site: 'km3-4-hai-yen', direction: 'export', cargoClass: 'farm-produce', atMinute: 1.5, minutes: 5, trucks: 36, holdShare: 0.12 },
  { kind: 'slowdown', lanes: ['bl2-smart-ex-1', 'bl2-smart-ex-2', 'bl2-smart-ex-3'], atMinute: 0.5, minutes: 20, factor: 3 },
  { kind: 'convoy', site: 'bac-luan-2', direction: 'export', cargoClass: 'consumer-goods', atMinute: 0.5, minutes: 4, trucks: 40, holdShare: 0.35 },
];

export const trafficProfiles: Readonly<Record<SimProfile, TrafficProfile>> = {
  real: { volumeFactor: 1, season: 'calendar', episodes: [], repeatEveryMinutes: 0 },
  demo: { volumeFactor: 3, season: 'pre-tet', episodes: demoScript, repeatEveryMinutes: 180 },
};
