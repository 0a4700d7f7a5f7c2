import type { WindowDimensions } from '@tower/shared';

export interface WindowChange extends WindowDimensions {
  /** The newest ingest time (ms) of the events in this change: end-to-end latency is measured from it. */
  newestIngestedAt: number;
  /** An event arrived after the watermark had passed the window's end: the tick is a correction. */
  late: boolean;
}

export interface NotedEvent {
  site: string;
  lane: string;
  direction: string;
  laneKind: string;
  observedAt: number;
  ingestedAt: number;
}

export const windowKey = (w: WindowDimensions) => `${w.site}|${w.lane}|${w.direction}|${w.laneKind}|${w.windowStart}`;

/**
 * The open 1-minute windows, in event time. The watermark is the newest observation
 * seen minus the allowed lateness; a window whose end is behind it is final, and an
 * event for it is late: it is still stored (and counted in the stored aggregates), and
 * its window's next tick says it is a correction. `drain()` hands over the windows that
 * changed since the last tick.
 * Only windows within the tick horizon of now are live: the wall shows the last hour,
 * so a backlog of older events (a replay, a device that was offline for a day) goes to
 * the stored aggregates and the history API without flooding the tick topic and
 * without dragging the watermark.
 */
export class LiveWindows {
  private newestObservedAt = 0;
  private changes = new Map<string, WindowChange>();

  constructor(
    private readonly allowedLatenessMs: number,
    private readonly tickHorizonMs: number,
    private readonly windowMs = 60_000,
  ) {}

  get watermark(): number {
    return this.newestObservedAt - this.allowedLatenessMs;
  }

  /** Records one stored event (`now` in ms); says whether it was late. Events beyond the tick horizon are not live. */
  note(event: NotedEvent, now: number): boolean {
    if (event.observedAt < now - this.tickHorizonMs) return false;
    const windowStartMs = Math.floor(event.observedAt / this.windowMs) * this.windowMs;
    const late = windowStartMs + this.windowMs <= this.watermark;
    this.newestObservedAt = Math.max(this.newestObservedAt, event.observedAt);
    const windowStart = windowStartMs / 1000;
    const key = `${event.site}|${event.lane}|${event.direction}|${event.laneKind}|${windowStart}`;
    const change = this.changes.get(key);
    if (change) {
      change.newestIngestedAt = Math.max(change.newestIngestedAt, event.ingestedAt);
      change.late ||= late;
    } else {
      this.changes.set(key, { site: event.site, lane: event.lane, direction: event.direction, laneKind: event.laneKind, windowStart, newestIngestedAt: event.ingestedAt, late });
    }
    return late;
  }

  /** Is this window (start in seconds) final, i.e. behind the watermark? */
  isFinal(windowStart: number): boolean {
    return windowStart * 1000 + this.windowMs <= this.watermark;
  }

  drain(): WindowChange[] {
    const drained = [...this.changes.values()];
    this.changes = new Map();
    return drained;
  }

  /** Puts changes back (their tick could not be published); newer changes win. */
  restore(changes: readonly WindowChange[]): void {
    for (const change of changes) {
      const key = windowKey(change);
      const newer = this.changes.get(key);
      this.changes.set(key, newer ? { ...newer, newestIngestedAt: Math.max(newer.newestIngestedAt, change.newestIngestedAt), late: newer.late || change.late } : change);
    }
  }
}
