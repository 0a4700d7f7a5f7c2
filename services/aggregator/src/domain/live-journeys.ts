import type { JourneyView } from '@tower/shared';

export interface PendingJourney {
  journey: JourneyView;
  /** Ingest time (ms) of the newest event in this state of the journey. */
  newestIngestedAt: number;
}

const journeyKey = (journey: JourneyView) => `${journey.plate}|${journey.startedAt}`;

/**
 * Journeys changed by stored truck events, waiting for the next publish round: the
 * newest state per journey (plate and start), so a truck that moved three steps between
 * two rounds is published once. Bounded: when Kafka refuses for long, the oldest waiting
 * journeys are dropped (the live feed's snapshot reads them back from ClickHouse) and
 * counted.
 */
export class LiveJourneys {
  private pending = new Map<string, PendingJourney>();
  dropped = 0;

  constructor(private readonly maxPending = 20_000) {}

  note(journey: JourneyView, ingestedAt: number): void {
    const key = journeyKey(journey);
    const before = this.pending.get(key);
    this.pending.delete(key);
    this.pending.set(key, { journey, newestIngestedAt: Math.max(ingestedAt, before?.newestIngestedAt ?? 0) });
    this.bound();
  }

  drain(): PendingJourney[] {
    const drained = [...this.pending.values()];
    this.pending = new Map();
    return drained;
  }

  /** Puts journeys back (their round failed); a newer state noted meanwhile wins. */
  restore(journeys: readonly PendingJourney[]): void {
    const newer = this.pending;
    this.pending = new Map(journeys.map((p) => [journeyKey(p.journey), p]));
    for (const [key, p] of newer) {
      this.pending.delete(key);
      this.pending.set(key, p);
    }
    this.bound();
  }

  get size(): number {
    return this.pending.size;
  }

  private bound(): void {
    while (this.pending.size > this.maxPending) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.dropped += 1;
    }
  }
}
