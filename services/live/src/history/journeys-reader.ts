import { journeysOf, journeyView, type JourneyView, type TruckEvent } from '@tower/shared';
import type { HistoryStore } from './store.ts';

export interface RecentJourneySettings {
  /** Journeys with a step this recent are shown (the wall's last hour). */
  activeMs: number;
  /** How far back their earlier steps are read, so a journey that began before is whole. */
  lookbackMs: number;
  /** Most journeys in one snapshot. */
  maxJourneys: number;
}

/**
 * The journeys with a step since `activeSinceMs`, newest step first, at most `max`: cut
 * from the plates' events exactly as the aggregator cuts them (`journeysOf`), so a
 * snapshot and the live updates that follow it name the same journeys.
 */
export function recentJourneys(events: readonly TruckEvent[], site: string | undefined, activeSinceMs: number, max: number): JourneyView[] {
  const byPlate = new Map<string, TruckEvent[]>();
  for (const event of events) {
    const plateEvents = byPlate.get(event.plate);
    if (plateEvents) plateEvents.push(event);
    else byPlate.set(event.plate, [event]);
  }
  const journeys: JourneyView[] = [];
  for (const plateEvents of byPlate.values()) {
    for (const journey of journeysOf(plateEvents)) {
      const view = journeyView(journey);
      if (view.lastStepAt >= activeSinceMs && (site === undefined || view.site === site)) journeys.push(view);
    }
  }
  return journeys.sort((a, b) => b.lastStepAt - a.lastStepAt).slice(0, max);
}

export async function readRecentJourneys(store: HistoryStore, filter: { site?: string; plate?: string }, settings: RecentJourneySettings, at: number): Promise<JourneyView[]> {
  const activeSinceMs = at - settings.activeMs;
  const events = await store.recentPlateEvents(filter, activeSinceMs, at - settings.lookbackMs, settings.maxJourneys);
  return recentJourneys(events, filter.site, activeSinceMs, settings.maxJourneys);
}
