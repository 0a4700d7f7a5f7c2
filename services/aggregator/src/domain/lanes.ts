import type { LaneEvent } from '@tower/shared';

/**
 * How long each lane was open, credited event by event: a lane event carries the time
 * the lane was open since the lane's previous event (`open_ms`), so summing it per
 * window gives lane open minutes. The interval is credited to the window in which it
 * ends; lanes report queue samples every minute, which keeps that within a minute.
 * A lane with no known state is taken as open from its first event on (no credit).
 * A lane silent for longer than `maxSilenceMs` is not known to have been open in the
 * gap (the controller or the link was down), so the gap earns nothing: otherwise one
 * sample after a night of silence would credit the whole night to a single minute.
 */
export const defaultMaxSilenceMs = 5 * 60_000;

export class LaneOpenTracker {
  private readonly lanes = new Map<string, { open: boolean; lastAt: number }>();

  constructor(private readonly maxSilenceMs = defaultMaxSilenceMs) {}

  apply(event: LaneEvent): number {
    const key = `${event.site}/${event.lane}`;
    const state = this.lanes.get(key);
    const gap = state ? event.observedAt - state.lastAt : 0;
    const openMs = state?.open && gap > 0 && gap <= this.maxSilenceMs ? gap : 0;
    const open = event.type === 'lane.closed' ? false : event.type === 'lane.opened' ? true : (state?.open ?? true);
    this.lanes.set(key, { open, lastAt: Math.max(event.observedAt, state?.lastAt ?? 0) });
    return openMs;
  }
}
