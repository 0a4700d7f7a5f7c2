import type { WindowDimensions } from '@tower/shared';

export interface WindowChange extends WindowDimensions {
  /** The newest ingest time (ms) of the events in this change: end-to-end latency is measured from it. */
  newestIngestedAt: number;
  /** An event arrived after the watermark had passed the window's end: the tick is a correction. */
  late: boolean;
}

export interface NotedEvent {
  /** Where the event came from (`topic:partition`): each source has its own progress in event time. */
  source: string;
  site: string;
  lane: string;
  direction: string;
  laneKind: string;
  observedAt: number;
  ingestedAt: number;
}

export const windowKey = (w: WindowDimensions) => `${w.site}|${w.lane}|${w.direction}|${w.laneKind}|${w.windowStart}`;

/**
 * The open 1-minute windows, in event time. Each source (a Kafka partition) has its own
 * progress: the newest observation it delivered. The watermark is the slowest active
 * source's progress minus the allowed lateness, so a partition that lags behind the
 * others (a backlog, a slow device) keeps its own events on time; a source silent for
 * longer than `idleSourceMs` stops holding the watermark back (a quiet lane must not
 * freeze every window). It can step back when a lagging partition becomes active (a
 * rebalance hands it over, or its device catches up): its events then count as on time
 * rather than as corrections, and ticks of its windows say final again only once it
 * has caught up. A window whose end is behind it
 * is final, and an event for it is late: it is still stored (and counted in the stored
 * aggregates), and its window's next tick says it is a correction. `drain()` hands over
 * the windows that changed since the last tick.
 * Only windows within the tick horizon of now are live: the wall shows the last hour,
 * so a backlog of older events (a replay, a device that was offline for a day) goes to
 * the stored aggregates and the history API without flooding the tick topic and
 * without dragging the watermark.
 */
export class LiveWindows {
  private readonly sources = new Map<string, { newest: number; seenAt: number }>();
  private changes = new Map<string, WindowChange>();

  constructor(
    private readonly allowedLatenessMs: number,
    private readonly tickHorizonMs: number,
    private readonly idleSourceMs = 30_000,
    private readonly windowMs = 60_000,
  ) {}

  /** The watermark at wall-clock `now` (ms); -Infinity before any event. */
  watermark(now: number): number {
    let slowestActive = Number.POSITIVE_INFINITY;
    let newest = Number.NEGATIVE_INFINITY;
    for (const source of this.sources.values()) {
      newest = Math.max(newest, source.newest);
      if (now - source.seenAt <= this.idleSourceMs) slowestActive = Math.min(slowestActive, source.newest);
    }
    return (slowestActive === Number.POSITIVE_INFINITY ? newest : slowestActive) - this.allowedLatenessMs;
  }

  /** Is an observation at `observedAt` within the tick horizon at `now`: shown live, not only stored? */
  isLive(observedAt: number, now: number): boolean {
    return observedAt >= now - this.tickHorizonMs;
  }

  /** Records one stored event (`now` in ms); says whether it was late. Events beyond the tick horizon are not live. */
  note(event: NotedEvent, now: number): boolean {
    if (!this.isLive(event.observedAt, now)) return false;
    const windowStartMs = Math.floor(event.observedAt / this.windowMs) * this.windowMs;
    const late = windowStartMs + this.windowMs <= this.watermark(now);
    const source = this.sources.get(event.source);
    if (source) {
      source.newest = Math.max(source.newest, event.observedAt);
      source.seenAt = now;
    } else {
      this.sources.set(event.source, { newest: event.observedAt, seenAt: now });
    }
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

  /** Is this window (start in seconds) final at `now`, i.e. behind the watermark? */
  isFinal(windowStart: number, now: number): boolean {
    return windowStart * 1000 + this.windowMs <= this.watermark(now);
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
