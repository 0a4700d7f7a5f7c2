import type { TruckEvent } from '../events/model.ts';

/**
 * A crossing journey: one truck's steps from arrival to gate-out at one site. Trucks
 * carry no journey id, so journeys are cut from the plate's events in order: a new
 * journey starts at `truck.arrived`, after a gate-out, or at another site.
 */
export interface Journey {
  plate: string;
  site: string;
  direction: TruckEvent['direction'];
  cargoClass?: string;
  /** Lanes in the order the truck used them. */
  lanes: string[];
  /** ms of the first event of each step type (`arrived`, `plate-read`, `gate-out`, ...). */
  steps: Partial<Record<JourneyStep, number>>;
  holdReasons: string[];
  grossKg?: number;
  containers: string[];
  /** Plate read to gate-out, ms, once both happened. */
  clearanceMs?: number;
  /** Joined the queue to crossed the border line, ms, once both happened. */
  turnaroundMs?: number;
  complete: boolean;
}

export type JourneyStep = TruckEvent['type'] extends `truck.${infer S}` ? S : never;

const stepOf = (event: TruckEvent) => event.type.slice('truck.'.length) as JourneyStep;

function newJourney(event: TruckEvent): Journey {
  return { plate: event.plate, site: event.site, direction: event.direction, lanes: [], steps: {}, holdReasons: [], containers: [], complete: false };
}

/** What a truck event completes: the KPI values stored on its row (0 when none). */
export interface JourneyTimes {
  clearanceMs: number;
  turnaroundMs: number;
}

/**
 * Applies one truck event to a journey (or starts a new one) and says what it
 * completed. Pure: the same events in the same order give the same journeys, which is
 * what lets the aggregator rebuild its state from stored rows after a crash.
 */
export function advanceJourney(current: Journey | undefined, event: TruckEvent): { journey: Journey; times: JourneyTimes } {
  const startsNew = !current || current.complete || event.type === 'truck.arrived' || current.site !== event.site;
  const journey = startsNew ? newJourney(event) : current;
  const step = stepOf(event);
  journey.steps[step] ??= event.observedAt;
  if (event.cargoClass) journey.cargoClass = event.cargoClass;
  if (event.lane && journey.lanes.at(-1) !== event.lane) journey.lanes.push(event.lane);
  for (const container of event.containers ?? []) if (!journey.containers.includes(container)) journey.containers.push(container);
  if (event.type === 'truck.weighed') journey.grossKg = event.grossKg;
  if (event.type === 'truck.customs-held') journey.holdReasons.push(event.holdReason);
  const times: JourneyTimes = { clearanceMs: 0, turnaroundMs: 0 };
  if (event.type === 'truck.border-crossed' && journey.steps['queue-joined'] !== undefined && journey.turnaroundMs === undefined) {
    journey.turnaroundMs = Math.max(1, event.observedAt - journey.steps['queue-joined']);
    times.turnaroundMs = journey.turnaroundMs;
  }
  if (event.type === 'truck.gate-out') {
    journey.complete = true;
    if (journey.steps['plate-read'] !== undefined) {
      journey.clearanceMs = Math.max(1, event.observedAt - journey.steps['plate-read']);
      times.clearanceMs = journey.clearanceMs;
    }
  }
  return { journey, times };
}

/** Every journey of a plate from its events (any order; sorted by observation time). */
export function journeysOf(events: readonly TruckEvent[]): Journey[] {
  const journeys: Journey[] = [];
  let current: Journey | undefined;
  for (const event of [...events].sort((a, b) => a.observedAt - b.observedAt)) {
    const { journey } = advanceJourney(current, event);
    if (journey !== current) journeys.push(journey);
    current = journey;
  }
  return journeys;
}

/**
 * Open journeys per plate, for the aggregator: a bounded map (a plate that never
 * reaches gate-out must not grow memory forever).
 */
export class JourneyTracker {
  private readonly open = new Map<string, Journey>();

  constructor(private readonly maxPlates = 200_000) {}

  apply(event: TruckEvent): JourneyTimes {
    return this.advance(event).times;
  }

  /** Applies the event; the journey it belongs to now (the tracker keeps changing it: copy what you keep). */
  advance(event: TruckEvent): { journey: Journey; times: JourneyTimes } {
    const advanced = advanceJourney(this.open.get(event.plate), event);
    this.open.delete(event.plate);
    if (!advanced.journey.complete) {
      this.open.set(event.plate, advanced.journey);
      if (this.open.size > this.maxPlates) this.open.delete(this.open.keys().next().value as string);
    }
    return advanced;
  }

  get size(): number {
    return this.open.size;
  }
}
