/**
 * What the entry hands the Artillery processor (a JSON file named by the script's
 * `runContext` variable): the target's URLs and keys, the event pool, the run's source
 * prefix and the scenario's settings. Types only: the processor is bundled alone.
 */
export interface PoolEvent {
  eventId: string;
  observedAt: number;
  source: string;
  site: string;
  [field: string]: unknown;
}

export interface RunContext {
  ingest: string;
  live: string;
  slots: string;
  /** Device keys per site (Authorization: Bearer <key>): a site's batches go round its devices. */
  deviceKeys: Record<string, string[]>;
  displayToken: string;
  /** Every firm key of the target with the trucks of its fleet the run books: each virtual user books one of them as that firm. */
  fleets: { token: string; plates: string[] }[];
  /** Prepended to every event's source: the run's rows are found by it. */
  sourcePrefix: string;
  pool: { site: string; events: PoolEvent[] }[];
  /** The lane group and window the slot paths book in. */
  slot: { site: string; laneKind: string; direction: string; windowStart: number; cargoClass: string };
  /** How long a wall keeps its feed open (s). */
  wallHoldSeconds: number;
  /** Longest wait for a throughput tick (s). */
  tickTimeoutSeconds: number;
}

/** The metrics the processor adds to Artillery's (names as they appear in its JSON). */
export const customMetric = {
  eventsSent: 'tower.events_sent',
  eventsAccepted: 'tower.events_accepted',
  eventsRejected: 'tower.events_rejected',
  snapshotMs: 'tower.live_snapshot_ms',
  freshnessMs: 'tower.live_freshness_ms',
  ticks: 'tower.live_ticks',
  bookingsConfirmed: 'tower.bookings_confirmed',
} as const;
