import type { TruckEvent } from '../events/model.ts';

/**
 * A crossing journey: one truck's steps from arrival to gate-out at one site. Trucks
 * carry no journey id, so journeys are cut from the events of a plate at a site, in
 * order: a new journey starts at `truck.arrived` or after a gate-out. A plate's events
 * at another site never touch it: two sites' devices deliver on their own, so how their
 * events of one plate (a cloned plate, a misread, a device sending late) interleave on
 * the plate's partition is not fixed, and the figures must not depend on it.
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
  /** The weighbridge's gross weight, kg, when the truck was weighed. */
  grossKg?: number;
  /** The gross weight on the truck's electronic declaration, kg, as its gate-in carried it. */
  declaredGrossKg?: number;
  /** How the crossing's weight was counted, once the truck crossed the border line. */
  crossingWeight?: CrossingWeight;
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

/**
 * Where the tonnes of a crossing come from: the weighbridge's weight when the truck was
 * weighed, else the weight on its declaration; `none` when neither is known (it adds 0 t
 * and is counted as unweighed, so a figure can say how many trucks it lacks).
 */
const crossingWeights = ['weighbridge', 'declared', 'none'] as const;
export type CrossingWeight = (typeof crossingWeights)[number];

/**
 * The rule for a truck's tonnes: the weighbridge's gross weight when it was weighed, else
 * the declared gross weight, never both; 0 kg (`none`) without either.
 */
export function crossingWeightOf(journey: Pick<Journey, 'grossKg' | 'declaredGrossKg'>): { kg: number; source: CrossingWeight } {
  if (journey.grossKg !== undefined && journey.grossKg > 0) return { kg: journey.grossKg, source: 'weighbridge' };
  if (journey.declaredGrossKg !== undefined && journey.declaredGrossKg > 0) return { kg: journey.declaredGrossKg, source: 'declared' };
  return { kg: 0, source: 'none' };
}

/** What a truck event completes: the figures stored on its row (0 or '' when none). */
export interface JourneyFigures {
  clearanceMs: number;
  turnaroundMs: number;
  /** On the truck's crossing of the border line: the kg its tonnes count (see crossingWeightOf). */
  crossedKg: number;
  /** On the truck's crossing: where `crossedKg` comes from; '' on every other row. */
  crossedWeight: CrossingWeight | '';
}

/** The figures of an event that completes nothing. */
export const noJourneyFigures: Readonly<JourneyFigures> = Object.freeze({ clearanceMs: 0, turnaroundMs: 0, crossedKg: 0, crossedWeight: '' });

/**
 * Applies one truck event to a journey (or starts a new one) and says what it
 * completed; `current` is the plate's last journey at the event's site. Pure: the same events in the same order give the same journeys, which is
 * what lets the aggregator rebuild its state from stored rows after a crash.
 */
export function advanceJourney(current: Journey | undefined, event: TruckEvent): { journey: Journey; figures: JourneyFigures } {
  const startsNew = !current || current.complete || event.type === 'truck.arrived';
  const journey = startsNew ? newJourney(event) : current;
  const step = stepOf(event);
  journey.steps[step] ??= event.observedAt;
  if (event.cargoClass) journey.cargoClass = event.cargoClass;
  if (event.lane && journey.lanes.at(-1) !== event.lane) journey.lanes.push(event.lane);
  for (const container of event.containers ?? []) if (!journey.containers.includes(container)) journey.containers.push(container);
  if (event.type === 'truck.weighed') journey.grossKg = event.grossKg;
  if (event.type === 'truck.gate-in' && event.declaredGrossKg !== undefined) journey.declaredGrossKg = event.declaredGrossKg;
  if (event.type === 'truck.customs-held') journey.holdReasons.push(event.holdReason);
  const figures: JourneyFigures = { ...noJourneyFigures };
  if (event.type === 'truck.border-crossed') {
    if (journey.steps['queue-joined'] !== undefined && journey.turnaroundMs === undefined) {
      journey.turnaroundMs = Math.max(1, event.observedAt - journey.steps['queue-joined']);
      figures.turnaroundMs = journey.turnaroundMs;
    }
    // Tonnes are counted once per crossing, on its first border-crossed event, with what
    // the journey knows by then: the weighbridge and the gate-in lie before the line.
    if (journey.crossingWeight === undefined) {
      const { kg, source } = crossingWeightOf(journey);
      journey.crossingWeight = source;
      figures.crossedKg = kg;
      figures.crossedWeight = source;
    }
  }
  if (event.type === 'truck.gate-out') {
    journey.complete = true;
    if (journey.steps['plate-read'] !== undefined) {
      journey.clearanceMs = Math.max(1, event.observedAt - journey.steps['plate-read']);
      figures.clearanceMs = journey.clearanceMs;
    }
  }
  return { journey, figures };
}

/** Every journey of a plate from its events (any order; sorted by observation time), in the order they started. */
export function journeysOf(events: readonly TruckEvent[]): Journey[] {
  const journeys: Journey[] = [];
  const current = new Map<string, Journey>();
  for (const event of [...events].sort((a, b) => a.observedAt - b.observedAt)) {
    const before = current.get(event.site);
    const { journey } = advanceJourney(before, event);
    if (journey !== before) journeys.push(journey);
    current.set(event.site, journey);
  }
  return journeys;
}

/**
 * Open journeys per plate and site, for the aggregator: a bounded map (a truck that
 * never reaches gate-out must not grow memory forever).
 */
export class JourneyTracker {
  private readonly open = new Map<string, Journey>();

  constructor(private readonly maxOpen = 200_000) {}

  apply(event: TruckEvent): JourneyFigures {
    return this.advance(event).figures;
  }

  /** Applies the event; the journey it belongs to now (the tracker keeps changing it: copy what you keep). */
  advance(event: TruckEvent): { journey: Journey; figures: JourneyFigures } {
    const key = `${event.plate}|${event.site}`;
    const advanced = advanceJourney(this.open.get(key), event);
    this.open.delete(key);
    if (!advanced.journey.complete) {
      this.open.set(key, advanced.journey);
      if (this.open.size > this.maxOpen) this.open.delete(this.open.keys().next().value as string);
    }
    return advanced;
  }

  get size(): number {
    return this.open.size;
  }
}
