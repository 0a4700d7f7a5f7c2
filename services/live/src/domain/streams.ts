import { laneGroupOf, slotWindowKey, type ThroughputTick } from '@tower/shared';
import type { ChannelData, LiveChannel, LiveFilter, ThroughputFilter } from './protocol.ts';
import { tickSuccession } from './provisional.ts';

/**
 * The recent deltas of one stream (a channel with a filter), numbered 1, 2, 3… A client
 * that reconnects with the last seq it applied gets the gap from here, as long as the
 * bounded buffer still holds all of it; otherwise it needs a fresh snapshot.
 */
export class StreamLog<T> {
  private readonly entries: { seq: number; item: T }[] = [];
  private lastSeq = 0;

  constructor(private readonly capacity: number) {}

  get seq(): number {
    return this.lastSeq;
  }

  append(item: T): number {
    this.lastSeq += 1;
    this.entries.push({ seq: this.lastSeq, item });
    if (this.entries.length > this.capacity) this.entries.shift();
    return this.lastSeq;
  }

  /** The deltas after `seq` in order; undefined when some of them are no longer held. */
  since(seq: number): { seq: number; item: T }[] | undefined {
    if (seq > this.lastSeq) return undefined;
    if (seq === this.lastSeq) return [];
    const first = this.entries[0];
    if (!first || first.seq > seq + 1) return undefined;
    return this.entries.slice(seq + 1 - first.seq);
  }
}

/** One name per channel and distinct filter (the order of fields does not matter). */
export function streamKey(channel: LiveChannel, filter: LiveFilter): string {
  return `${channel}?site=${filter.site ?? ''}&lane=${filter.lane ?? ''}&kind=${filter.kind ?? ''}&plate=${encodeURIComponent(filter.plate ?? '')}&firm=${filter.firm ?? ''}`;
}

export function tickMatches(tick: ThroughputTick, filter: ThroughputFilter): boolean {
  return (filter.site === undefined || tick.site === filter.site) && (filter.lane === undefined || tick.lane === filter.lane) && (filter.kind === undefined || tick.laneKind === filter.kind);
}

/** What a tick is the newest value of: slow clients keep only the latest per key. */
export function tickKey(tick: ThroughputTick): string {
  return `${tick.site}|${tick.lane}|${tick.direction}|${tick.laneKind}|${tick.windowStart}`;
}

/**
 * Per channel: which deltas a filter takes, and what a delta is the newest value of
 * (a slow client gets only the latest per conflation key).
 */
export const channelRules: { readonly [C in LiveChannel]: { matches(delta: ChannelData[C]['delta'], filter: LiveFilter): boolean; conflationKey(delta: ChannelData[C]['delta']): string } } = {
  throughput: { matches: tickMatches, conflationKey: tickKey },
  kpis: { matches: (kpis, filter) => kpis.site === (filter.site ?? null), conflationKey: (kpis) => kpis.site ?? '' },
  lanes: {
    matches: (lane, filter) => (filter.site === undefined || lane.site === filter.site) && (filter.lane === undefined || lane.lane === filter.lane),
    conflationKey: (lane) => `${lane.site}/${lane.lane}`,
  },
  alerts: { matches: (alert, filter) => filter.site === undefined || alert.site === filter.site, conflationKey: (alert) => alert.id },
  journeys: {
    matches: (journey, filter) => (filter.site === undefined || journey.site === filter.site) && (filter.plate === undefined || journey.plate === filter.plate),
    conflationKey: (journey) => `${journey.plate}|${journey.startedAt}`,
  },
  slots: { matches: (window, filter) => filter.site === undefined || window.site === filter.site, conflationKey: slotWindowKey },
  bookings: { matches: (booking, filter) => filter.firm === undefined || booking.firm === filter.firm, conflationKey: (booking) => booking.id },
  conditions: { matches: (group, filter) => filter.site === undefined || group.site === filter.site, conflationKey: laneGroupOf },
};

/** Confirmed ticks that add no newer event to the provisional figures clients already have (their age is not freshness). */
const confirmationsOnly = new WeakSet<ThroughputTick>();

/** Does this confirmed tick only confirm (or correct) figures already shown provisionally, with no newer event? */
export const onlyConfirms = (tick: ThroughputTick): boolean => confirmationsOnly.has(tick);

/**
 * The current figures of every window of the last `horizonMs`: the newest tick per
 * window, for snapshots. Older windows are dropped, so it stays bounded over days.
 * A provisional tick (estimated by the aggregator before its insert) is shown until the
 * confirmed tick of its events arrives, which always replaces it (`tickSuccession`).
 */
export class ThroughputBoard {
  private readonly windows = new Map<string, ThroughputTick>();

  constructor(private readonly horizonMs: number) {}

  /** Puts a tick on the board; false when it is refused (not to be shown). */
  put(tick: ThroughputTick, now: number): boolean {
    const key = tickKey(tick);
    const current = this.windows.get(key);
    const succession = tickSuccession(current, tick);
    if (succession === 'refused') return false;
    if (current?.provisional && !tick.provisional && tick.newestIngestedAt <= current.newestIngestedAt) confirmationsOnly.add(tick);
    if (succession === 'replaces') this.windows.set(key, tick);
    if (this.windows.size % 256 === 0) this.prune(now);
    return true;
  }

  prune(now: number): void {
    for (const [key, tick] of this.windows) if (tick.windowEnd < now - this.horizonMs) this.windows.delete(key);
  }

  matching(filter: ThroughputFilter, now: number): ThroughputTick[] {
    this.prune(now);
    return [...this.windows.values()].filter((tick) => tickMatches(tick, filter)).sort((a, b) => a.windowStart - b.windowStart);
  }
}
