import type { CapacityPlan, CargoClass, Direction, TowerEvent, TruckEvent } from '@tower/shared';
import { Random } from './random.ts';

/** A booking a simulated firm makes for a truck it knows will come. */
export interface PlannedBooking {
  site: string;
  laneKind: string;
  direction: Direction;
  windowStart: number;
  plate: string;
  cargoClass: CargoClass;
  /** Stable per truck and arrival: a retried booking is the same booking. */
  idempotencyKey: string;
  /** Most holds are confirmed; some are left to expire, as real firms do. */
  confirm: boolean;
}

export interface SlotDemandSettings {
  /** Share of arriving trucks whose firm booked a slot (0 disables). */
  share: number;
  windowMs: number;
  seed: number;
}

/** The lane kinds a truck may book, in the order a firm prefers them. */
const preferredKinds = ['smart', 'port-gate', 'manual', 'igv'];

/**
 * Slot demand for the demo: the simulator runs its traffic ahead of the clock, and for a
 * share of the trucks that will arrive a firm books the window of the arrival: mostly
 * the window itself, sometimes the next one (an early truck, inside the tolerance), now
 * and then one 90 minutes on (a truck far too early: flagged late at check-in). Its own
 * random stream, so the traffic is the same with or without bookings.
 */
export class SlotDemand {
  private readonly random: Random;
  private readonly groups: Map<string, string>;

  constructor(
    plan: CapacityPlan,
    private readonly settings: SlotDemandSettings,
  ) {
    this.random = new Random(settings.seed ^ 0x5a5a);
    this.groups = new Map();
    const kinds = new Map<string, string[]>();
    for (const group of Object.keys(plan.weekly)) {
      const [site = '', laneKind = '', direction = ''] = group.split('|');
      kinds.set(`${site}|${direction}`, [...(kinds.get(`${site}|${direction}`) ?? []), laneKind]);
    }
    for (const [siteDirection, available] of kinds) {
      const kind = preferredKinds.find((k) => available.includes(k));
      if (kind) this.groups.set(siteDirection, kind);
    }
  }

  plan(events: readonly TowerEvent[]): PlannedBooking[] {
    if (this.settings.share <= 0) return [];
    const { windowMs } = this.settings;
    const planned: PlannedBooking[] = [];
    for (const event of events) {
      if (event.type !== 'truck.arrived') continue;
      const truck = event as TruckEvent;
      const laneKind = this.groups.get(`${truck.site}|${truck.direction}`);
      if (!laneKind || !this.random.chance(this.settings.share)) continue;
      const arrivalWindow = Math.floor(truck.observedAt / windowMs) * windowMs;
      const roll = this.random.next();
      const windowStart = roll < 0.8 ? arrivalWindow : roll < 0.95 ? arrivalWindow + windowMs : arrivalWindow + 3 * windowMs;
      planned.push({
        site: truck.site,
        laneKind,
        direction: truck.direction,
        windowStart,
        plate: truck.plate,
        cargoClass: truck.cargoClass ?? 'other',
        idempotencyKey: `sim-${truck.eventId}`,
        confirm: this.random.chance(0.93),
      });
    }
    return planned;
  }
}
