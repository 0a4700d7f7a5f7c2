import { iso6346CheckDigit, sitePhase, type ContainerEvent, type Direction, type Lane, type Site, type SiteCatalog, type TowerEvent, type TruckEvent } from '@tower/shared';
import { Random } from './random.ts';
import { trafficProfiles, type Episode, type TrafficProfile } from './profiles.ts';
import { cargoMix, dailyProfile, exportShare, officerCheckShare, peoplePerDay, personDocumentMix, portCalls, seasonalFactor, siteShare, trucksPerDay, type PortCalls } from './volumes.ts';

/**
 * A discrete-event simulation of the zone's traffic. Actions sit on an agenda by
 * time; `advanceTo(t)` runs every action due by `t`, which emit events (observed at
 * their own time, never later than `t`) and schedule what follows. Deterministic for
 * a seed and a start time.
 *
 * Trucks arrive at each crossing as a Poisson process shaped by the daily profile and
 * the season, pick the open lane with the shortest queue, wait their turn, and go
 * through the journey: plate read, pre-declaration, (weighing and scanning where the
 * site has them), a share held by customs, gate-in (with the gross weight declared,
 * within 3 % of the real one), the border line, gate-out. Smart
 * lanes clear within the 15 s of Hữu Nghị (8–14 s); manual lanes in minutes. Lanes
 * report their queue, congestion and faults; IGVs report position; ports see vessel
 * calls. People cross Bắc Luân I's biometric gates, each way as a Poisson process of
 * its own, through an open gate of their direction. A profile (profiles.ts) sets the
 * volume and season and may add a script of incidents (faults, convoys, slow lanes).
 */
export interface SimulationOptions {
  seed: number;
  /** Multiplies arrival rates of goods (trucks and vessel calls). */
  rate: number;
  /** Multiplies arrival rates of people (1 when left out: the press volume, whatever `rate`). */
  peopleRate?: number;
  start: number;
  /** What to play; `real` (the press-derived volumes, no script) when left out. */
  profile?: TrafficProfile;
}

/** An event before the simulation stamps its id and time (distributes over the union). */
type Unstamped<E> = E extends unknown ? Omit<E, 'eventId' | 'observedAt'> : never;

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

interface LaneState {
  lane: Lane;
  site: Site;
  queue: Truck[];
  busy: boolean;
  faultUntil: number;
  congested: boolean;
  /** Until then (ms) its steps take `slowFactor` times as long. */
  slowUntil: number;
  slowFactor: number;
}

interface Truck {
  plate: string;
  plateCountry: 'VN' | 'CN';
  direction: 'export' | 'import';
  cargoClass: NonNullable<TruckEvent['cargoClass']>;
  containers: string[];
  site: Site;
  lane?: LaneState;
  /** Chance that customs hold it, when not the lane's usual (a convoy checked on purpose). */
  holdShare?: number;
}

interface PortContainer {
  containerNumber: string;
  sizeFt: 20 | 40 | 45;
  fullness: 'full' | 'empty';
  reefer: boolean;
}

interface Igv {
  id: string;
  lane: LaneState;
  state: 'idle' | 'loading' | 'moving' | 'unloading' | 'charging';
  progress: number;
  heading: 1 | -1;
  battery: number;
  phaseEndsAt: number;
}

class Agenda {
  private heap: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;

  push(at: number, run: () => void): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, run });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(parent, i)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  peek(): number | undefined {
    return this.heap[0]?.at;
  }

  pop(): { at: number; run: () => void } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top && last && heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && this.less(left, smallest)) smallest = left;
        if (right < heap.length && this.less(right, smallest)) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
        i = smallest;
      }
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a]!;
    const y = this.heap[b]!;
    return x.at < y.at || (x.at === y.at && x.seq < y.seq);
  }
}

const holdReasons = { 'document-mismatch': 35, 'physical-inspection': 30, phytosanitary: 20, 'tax-assessment': 10, other: 5 } as const;
const ownerCodes = ['CSQ', 'MSK', 'TGH', 'OOL', 'HLX', 'EGH', 'COS', 'ONE'];
const vessels = ['HAI AN 68', 'VIMC PIONEER', 'TAN CANG 05', 'BEIBU GULF 3', 'QUANG NINH 09', 'FANGCHENG EXPRESS'];
/** The lanes a truck queues for and crosses on (weighbridges, scanners and checkpoints are steps on the way). */
const truckLaneKinds: ReadonlySet<string> = new Set(['smart', 'igv', 'manual']);
const faultCodes = ['BARRIER-STUCK', 'ANPR-OFFLINE', 'SCANNER-FAULT', 'POWER-DIP', 'NETWORK-LOSS'];
const vnProvinces = ['14', '14', '14', '14', '15', '29', '30', '34', '98', '99'];
const cnPrefixes = ['桂P', '桂P', '桂P', '桂A', '桂K', '粤B', '粤S'];

export class TrafficSimulation {
  private readonly random: Random;
  /**
   * Event ids have a stream of their own, seeded by the seed and the start: a simulator
   * restarted later with the same seed must not send the ids of its last run again,
   * since the ingest API binds an id to its first content and refuses another.
   */
  private readonly ids: Random;
  private readonly agenda = new Agenda();
  private readonly lanes = new Map<string, LaneState>();
  private readonly exportPool = new Map<string, PortContainer[]>();
  private emitted: TowerEvent[] = [];
  private now: number;
  private readonly profile: TrafficProfile;
  /** Arrival-rate multiplier: SIM_RATE times the profile's volume. */
  private readonly rate: number;
  /** The same for people: SIM_PEOPLE_RATE times the profile's volume. */
  private readonly peopleRate: number;
  /** The biometric gates of each site and direction (`site|direction`). */
  private readonly gates = new Map<string, LaneState[]>();
  /**
   * Plates of the trucks on their way (from their creation to their gate-out): journeys
   * are cut by plate, so no second truck gets one of them.
   */
  private readonly platesOnTheWay = new Set<string>();

  constructor(
    catalog: SiteCatalog,
    options: SimulationOptions,
  ) {
    this.random = new Random(options.seed);
    this.ids = new Random((options.seed ^ Math.floor(options.start / 1000)) >>> 0);
    this.now = options.start;
    this.profile = options.profile ?? trafficProfiles.real;
    this.rate = options.rate * this.profile.volumeFactor;
    this.peopleRate = (options.peopleRate ?? 1) * this.profile.volumeFactor;
    // A site being built (Vạn Ninh) has no devices and no traffic yet.
    const operating = catalog.document.sites.filter((site) => sitePhase(site) === 'operating');
    for (const site of operating) {
      for (const lane of site.lanes) {
        const state: LaneState = { lane, site, queue: [], busy: false, faultUntil: 0, congested: false, slowUntil: 0, slowFactor: 1 };
        this.lanes.set(lane.id, state);
        if (lane.kind === 'biometric-gate') this.gates.set(`${site.id}|${lane.direction}`, [...(this.gates.get(`${site.id}|${lane.direction}`) ?? []), state]);
      }
    }
    this.schedule(options.start, () => this.openAllLanes());
    if (this.profile.episodes.length > 0) this.schedule(options.start, () => this.playScript(catalog));
    for (const site of operating) {
      if (siteShare[site.id] && site.lanes.some((l) => truckLaneKinds.has(l.kind))) this.scheduleNextTruck(site);
      if (peoplePerDay[site.id]) for (const direction of ['export', 'import'] as const) if (this.gates.has(`${site.id}|${direction}`)) this.scheduleNextPerson(site, direction);
      const calls = portCalls[site.id];
      if (calls) {
        this.exportPool.set(site.id, []);
        this.schedule(options.start + this.random.between(10, 40) * minute, () => this.vesselCall(site, calls));
        this.scheduleNextExportContainer(site, calls);
      }
    }
  }

  /** Runs everything due by `until` (ms) and returns the events observed, in time order. */
  advanceTo(until: number): TowerEvent[] {
    for (let at = this.agenda.peek(); at !== undefined && at <= until; at = this.agenda.peek()) {
      const action = this.agenda.pop()!;
      this.now = action.at;
      action.run();
    }
    this.now = until;
    const out = this.emitted;
    this.emitted = [];
    return out;
  }

  private schedule(at: number, run: () => void): void {
    this.agenda.push(Math.round(at), run);
  }

  private after(delayMs: number, run: () => void): void {
    this.schedule(this.now + delayMs, run);
  }

  private emit(event: Unstamped<TowerEvent>): void {
    this.emitted.push({ ...event, eventId: this.ids.uuid(), observedAt: this.now } as TowerEvent);
  }

  // --- Lanes --------------------------------------------------------------------------

  private openAllLanes(): void {
    for (const state of this.lanes.values()) {
      this.emit({ type: 'lane.opened', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl` });
      // A queue is of vehicles: a gate for people reports none.
      if (state.lane.kind !== 'biometric-gate') this.after(this.random.between(0, 30) * second, () => this.sampleQueue(state));
      this.scheduleNextFault(state);
      if (state.lane.kind === 'igv') for (let n = 1; n <= 2; n += 1) this.startIgv(state, n);
    }
  }

  private sampleQueue(state: LaneState): void {
    this.emit({ type: 'lane.queue-sampled', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl`, queueLength: state.queue.length });
    this.after(30 * second, () => this.sampleQueue(state));
  }

  private queueChanged(state: LaneState): void {
    const length = state.queue.length;
    if (!state.congested && length >= 8) {
      state.congested = true;
      this.emit({ type: 'lane.congested', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl`, queueLength: length });
    } else if (state.congested && length <= 3) {
      state.congested = false;
      this.emit({ type: 'lane.cleared', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl` });
    }
  }

  private scheduleNextFault(state: LaneState): void {
    // About one fault per lane every two days, 5 to 20 minutes to clear.
    this.after(this.random.exponential(48 * hour), () => {
      const repairMs = this.random.between(5, 20) * minute;
      this.fault(state, repairMs, this.random.pick(faultCodes), () => this.scheduleNextFault(state));
    });
  }

  /** The lane stops serving for `repairMs`; a lane already in fault keeps its own. */
  private fault(state: LaneState, repairMs: number, faultCode: string, repaired: () => void = () => {}): void {
    if (state.faultUntil > this.now) return repaired();
    state.faultUntil = this.now + repairMs;
    this.emit({ type: 'lane.fault', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl`, faultCode, detail: `simulated ${faultCode.toLowerCase()}` });
    this.after(repairMs, () => {
      this.emit({ type: 'lane.cleared', site: state.site.id, lane: state.lane.id, source: `${state.site.code}-lane-ctl` });
      this.serveNext(state);
      repaired();
    });
  }

  // --- The profile's script -----------------------------------------------------------

  /** Schedules every episode of the profile's script from now, and the script again after its period. */
  private playScript(catalog: SiteCatalog): void {
    for (const episode of this.profile.episodes) this.after(episode.atMinute * minute, () => this.play(episode, catalog));
    if (this.profile.repeatEveryMinutes > 0) this.after(this.profile.repeatEveryMinutes * minute, () => this.playScript(catalog));
  }

  private play(episode: Episode, catalog: SiteCatalog): void {
    if (episode.kind === 'fault') {
      const state = this.lanes.get(episode.lane);
      if (state) this.fault(state, episode.minutes * minute, episode.faultCode);
    } else if (episode.kind === 'slowdown') {
      for (const id of episode.lanes) {
        const state = this.lanes.get(id);
        if (!state) continue;
        state.slowUntil = this.now + episode.minutes * minute;
        state.slowFactor = episode.factor;
      }
    } else {
      const site = catalog.site(episode.site);
      if (!site) return;
      const gap = (episode.minutes * minute) / episode.trucks;
      for (let n = 0; n < episode.trucks; n += 1) {
        this.after(n * gap, () => this.truckArrives(site, { ...this.newTruck(site, episode), holdShare: episode.holdShare }));
      }
    }
  }

  // --- IGVs ---------------------------------------------------------------------------

  private startIgv(lane: LaneState, n: number): void {
    const igv: Igv = { id: `${lane.lane.id}-igv-${n}`, lane, state: 'idle', progress: n === 1 ? 0 : 1, heading: n === 1 ? 1 : -1, battery: this.random.between(60, 100), phaseEndsAt: this.now };
    this.after(this.random.between(0, 5) * second, () => this.igvTick(igv));
  }

  private igvTick(igv: Igv): void {
    const stepSeconds = 5;
    if (igv.state === 'moving') {
      igv.progress = Math.min(1, Math.max(0, igv.progress + igv.heading * (stepSeconds / 90)));
      igv.battery = Math.max(0, igv.battery - 0.1);
      if (igv.progress === 0 || igv.progress === 1) {
        igv.state = igv.heading === 1 ? 'unloading' : 'loading';
        igv.phaseEndsAt = this.now + 30 * second;
      }
    } else if (this.now >= igv.phaseEndsAt) {
      if (igv.battery < 20) {
        igv.state = 'charging';
        igv.phaseEndsAt = this.now + 20 * minute;
        igv.battery = 90;
      } else {
        igv.state = 'moving';
        igv.heading = igv.progress >= 1 ? -1 : 1;
      }
    }
    const { lane } = igv;
    this.emit({
      type: 'lane.igv-telemetry',
      site: lane.site.id,
      lane: lane.lane.id,
      source: igv.id,
      igvId: igv.id,
      igvState: igv.state,
      progress: Math.round(igv.progress * 1000) / 1000,
      batteryPct: Math.round(igv.battery * 10) / 10,
    });
    this.after(stepSeconds * second, () => this.igvTick(igv));
  }

  // --- People -------------------------------------------------------------------------

  /** People crossing one way at the site (half its daily crossings), shaped by the hour and the season. */
  private scheduleNextPerson(site: Site, direction: Direction): void {
    const perDay = ((peoplePerDay[site.id] ?? 0) / 2) * this.peopleRate * dailyProfile(this.now) * seasonalFactor(this.now, 'other', this.profile.season);
    this.after(this.random.exponential((24 * hour) / perDay), () => {
      this.personCrosses(site, direction);
      this.scheduleNextPerson(site, direction);
    });
  }

  /** One person through an open gate of the way; with every gate of the way in fault, officers check people by hand at the gates. */
  private personCrosses(site: Site, direction: Direction): void {
    const gates = this.gates.get(`${site.id}|${direction}`) ?? [];
    const open = gates.filter((g) => g.faultUntil <= this.now);
    const gate = this.random.pick(open.length > 0 ? open : gates);
    this.emit({
      type: 'lane.person-crossed',
      site: site.id,
      lane: gate.lane.id,
      source: gate.lane.id,
      direction: direction === 'export' ? 'exit' : 'entry',
      documentKind: this.random.weighted(personDocumentMix),
      verification: open.length === 0 || this.random.chance(officerCheckShare) ? 'officer' : 'biometric',
    });
  }

  // --- Trucks -------------------------------------------------------------------------

  /** In the fruit harvest farm exports rise: the factor by which they exceed the rest. */
  private harvestBoost(): number {
    return seasonalFactor(this.now, 'farm', this.profile.season) / seasonalFactor(this.now, 'other', this.profile.season);
  }

  private scheduleNextTruck(site: Site): void {
    const boost = this.harvestBoost();
    const directionMix = exportShare * boost + (1 - exportShare);
    const perDay = trucksPerDay * (siteShare[site.id] ?? 0) * this.rate * dailyProfile(this.now) * seasonalFactor(this.now, 'other', this.profile.season) * directionMix;
    this.after(this.random.exponential((24 * hour) / perDay), () => {
      this.truckArrives(site);
      this.scheduleNextTruck(site);
    });
  }

  /** A truck for the site; its direction and cargo drawn from the mix unless given (a convoy). */
  private newTruck(site: Site, given?: Pick<Truck, 'direction' | 'cargoClass'>): Truck {
    const boost = this.harvestBoost();
    const direction = given?.direction ?? (this.random.chance((exportShare * boost) / (exportShare * boost + 1 - exportShare)) ? 'export' : 'import');
    const mix = cargoMix(site.id, direction);
    const cargoClass = given?.cargoClass ?? this.random.weighted({ ...mix, ...(mix['farm-produce'] ? { 'farm-produce': mix['farm-produce'] * boost } : {}) });
    const vietnamese = this.random.chance(direction === 'export' ? 0.7 : 0.4);
    const plate = this.freePlate(vietnamese);
    this.platesOnTheWay.add(plate);
    return { plate, plateCountry: vietnamese ? 'VN' : 'CN', direction, cargoClass, containers: this.random.chance(0.6) ? [this.containerNumber()] : [], site };
  }

  /** A plate of the country no truck on its way has (drawn again while it is taken: there are hundreds of thousands). */
  private freePlate(vietnamese: boolean): string {
    for (;;) {
      const plate = vietnamese
        ? `${this.random.pick(vnProvinces)}${this.random.pick(['C', 'C', 'H', 'LD'])}-${this.random.integer(100, 999)}.${String(this.random.integer(0, 99)).padStart(2, '0')}`
        : `${this.random.pick(cnPrefixes)}·${String(this.random.integer(10000, 99999))}`;
      if (!this.platesOnTheWay.has(plate)) return plate;
    }
  }

  private truckEvent(truck: Truck, type: TruckEvent['type'], extra: Record<string, unknown> = {}, source = `${truck.site.code}-anpr`): void {
    this.emit({
      type,
      site: truck.site.id,
      source,
      plate: truck.plate,
      plateCountry: truck.plateCountry,
      direction: truck.direction,
      cargoClass: truck.cargoClass,
      ...(truck.containers.length > 0 ? { containers: truck.containers } : {}),
      ...extra,
    } as Unstamped<TruckEvent>);
  }

  private truckArrives(site: Site, truck = this.newTruck(site)): void {
    // Lanes of sites being built are not simulated: a truck with no lane to take does not come.
    const candidates = [...this.lanes.values()].filter(
      (s) => s.site.id === site.id && s.lane.direction === truck.direction && truckLaneKinds.has(s.lane.kind),
    );
    if (candidates.length === 0) {
      this.platesOnTheWay.delete(truck.plate);
      return;
    }
    this.truckEvent(truck, 'truck.arrived', {}, `${site.code}-gate-cam`);
    const open = candidates.filter((s) => s.faultUntil <= this.now);
    const pool = open.length > 0 ? open : candidates;
    // Most trucks at Bắc Luân II take the smart lanes; a tenth go by IGV.
    const preferIgv = this.random.chance(0.1);
    const preferred = pool.filter((s) => (s.lane.kind === 'igv') === preferIgv);
    const choice = (preferred.length > 0 ? preferred : pool).reduce((best, s) => (s.queue.length < best.queue.length ? s : best));
    this.after(this.random.between(20, 90) * second, () => {
      truck.lane = choice;
      choice.queue.push(truck);
      this.truckEvent(truck, 'truck.queue-joined', { lane: choice.lane.id }, `${site.code}-lane-ctl`);
      this.queueChanged(choice);
      this.serveNext(choice);
    });
  }

  private serveNext(state: LaneState): void {
    if (state.busy || state.faultUntil > this.now) return;
    const truck = state.queue.shift();
    if (!truck) return;
    state.busy = true;
    this.queueChanged(state);
    const smart = state.lane.kind === 'smart' || state.lane.kind === 'igv';
    const laneId = state.lane.id;
    const free = () => {
      state.busy = false;
      this.serveNext(state);
    };
    this.truckEvent(truck, 'truck.plate-read', { lane: laneId, confidence: Math.round(this.random.between(0.9, 0.999) * 1000) / 1000 });
    const slow = state.slowUntil > this.now ? state.slowFactor : 1;
    const step = (min: number, max: number) => this.random.between(min, max) * slow * second;
    const weighbridge = this.stationFor(truck, 'weighbridge');
    const scanner = this.stationFor(truck, 'scanner');
    // The truck's real gross weight, and the one on its declaration, within a few % of it.
    const grossKg = this.random.integer(12_000, 44_000);
    const declaredGrossKg = Math.round(grossKg * this.random.between(0.97, 1.03));
    // Smart lanes: 8 to 14 s from plate read to gate-out, within the 15 s of Hữu Nghị.
    let t = smart ? step(0.5, 1.5) : step(30, 120);
    this.after(t, () => this.truckEvent(truck, 'truck.predeclaration-matched', { declarationId: `TK-${this.random.integer(100000000, 999999999)}` }, `${truck.site.code}-vnsw`));
    if (weighbridge) {
      t += smart ? step(1.5, 2.5) : step(60, 180);
      this.after(t, () => this.truckEvent(truck, 'truck.weighed', { lane: weighbridge, grossKg }, `${truck.site.code}-wim`));
    }
    const inspect = this.random.chance(truck.holdShare ?? (smart ? 0.05 : 0.12));
    if (scanner) {
      t += smart ? step(1.5, 2.5) : step(120, 300);
      this.after(t, () => this.truckEvent(truck, 'truck.scanned', { lane: scanner, scanResult: inspect ? 'inspect' : 'clear' }, `${truck.site.code}-scanner`));
    }
    if (inspect) {
      t += step(2, 10);
      this.after(t, () => {
        this.truckEvent(truck, 'truck.customs-held', { holdReason: this.random.weighted(holdReasons) }, `${truck.site.code}-customs`);
        free(); // the truck leaves the lane for the inspection area
      });
      t += this.random.between(10, 45) * minute;
      this.after(t, () => this.truckEvent(truck, 'truck.customs-released', {}, `${truck.site.code}-customs`));
    }
    t += smart ? step(1.5, 2.5) : step(90, 240);
    this.after(t, () => {
      this.truckEvent(truck, 'truck.gate-in', { lane: laneId, declaredGrossKg });
      if (!inspect) free();
    });
    t += smart ? step(1.5, 2.5) : step(120, 300);
    this.after(t, () => this.truckEvent(truck, 'truck.border-crossed', { lane: laneId }, `${truck.site.code}-border-cam`));
    t += smart ? step(1.5, 2.5) : step(30, 120);
    this.after(t, () => {
      this.truckEvent(truck, 'truck.gate-out', { lane: laneId });
      this.platesOnTheWay.delete(truck.plate);
    });
  }

  /** The weighbridge or scanner lane of the truck's site and direction, if it has one. */
  private stationFor(truck: Truck, kind: 'weighbridge' | 'scanner'): string | undefined {
    return truck.site.lanes.find((l) => l.kind === kind && l.direction === truck.direction)?.id;
  }

  // --- Ports --------------------------------------------------------------------------

  private containerNumber(): string {
    const firstTen = `${this.random.pick(ownerCodes)}U${String(this.random.integer(0, 999_999)).padStart(6, '0')}`;
    return `${firstTen}${iso6346CheckDigit(firstTen)}`;
  }

  private newContainer(fullness: 'full' | 'empty'): PortContainer {
    const sizeFt = this.random.weighted({ '20': 40, '40': 55, '45': 5 });
    return { containerNumber: this.containerNumber(), sizeFt: Number(sizeFt) as 20 | 40 | 45, fullness, reefer: this.random.chance(0.15) };
  }

  private containerEvent(site: Site, container: PortContainer, type: ContainerEvent['type'], extra: Record<string, unknown>, source = `${site.code}-tos`): void {
    this.emit({ type, site: site.id, source, ...container, ...extra } as Unstamped<ContainerEvent>);
  }

  private zonesOf(site: Site, kind: string): string[] {
    return site.zones.filter((z) => z.kind === kind).map((z) => z.id);
  }

  private portLane(site: Site, direction: 'export' | 'import'): string | undefined {
    return site.lanes.find((l) => l.kind === 'port-gate' && l.direction === direction && (this.lanes.get(l.id)?.faultUntil ?? 0) <= this.now)?.id
      ?? site.lanes.find((l) => l.kind === 'port-gate' && l.direction === direction)?.id;
  }

  private scheduleNextExportContainer(site: Site, calls: PortCalls): void {
    const perHour = calls.exportsPerHour * this.rate;
    this.after(this.random.exponential(hour / perHour), () => {
      const container = this.newContainer(this.random.chance(0.9) ? 'full' : 'empty');
      const lane = this.portLane(site, 'export');
      const blocks = this.zonesOf(site, 'yard-block');
      if (lane && blocks.length > 0) {
        this.containerEvent(site, container, 'container.gate-in', { lane }, `${site.code}-gate-ocr`);
        this.after(this.random.between(5, 20) * minute, () => {
          this.containerEvent(site, container, 'container.yard-moved', { toBlock: this.random.pick(blocks) });
          this.exportPool.get(site.id)?.push(container);
        });
      }
      this.scheduleNextExportContainer(site, calls);
    });
  }

  private vesselCall(site: Site, calls: PortCalls): void {
    const berths = this.zonesOf(site, 'berth');
    const cranes = this.zonesOf(site, 'quay-crane');
    const blocks = this.zonesOf(site, 'yard-block');
    if (berths.length === 0 || cranes.length === 0) return; // a port without berths or cranes in the catalog sees no calls
    const vessel = this.random.pick(vessels);
    const berth = this.random.pick(berths);
    const discharges = this.random.integer(...calls.discharges);
    const pool = this.exportPool.get(site.id) ?? [];
    const loads = pool.splice(0, Math.min(pool.length, this.random.integer(30, 100)));
    const crane = (i: number) => cranes[i % cranes.length] as string;
    const perMove = (90 * second) / cranes.length;
    for (let i = 0; i < discharges; i += 1) {
      this.after(i * perMove + this.random.between(0, 20) * second, () => {
        const container = this.newContainer(this.random.chance(0.85) ? 'full' : 'empty');
        this.containerEvent(site, container, 'container.discharged', { vessel, berth, crane: crane(i) }, `${site.code}-qc`);
        this.importJourney(site, container, blocks);
      });
    }
    loads.forEach((container, i) => {
      this.after((discharges + i) * perMove, () => this.containerEvent(site, container, 'container.loaded', { vessel, berth, crane: crane(i) }, `${site.code}-qc`));
    });
    const everyHours = calls.everyHours / this.rate;
    this.after(this.random.between(0.75, 1.25) * everyHours * hour, () => this.vesselCall(site, calls));
  }

  private importJourney(site: Site, container: PortContainer, blocks: string[]): void {
    if (blocks.length === 0) return;
    this.after(this.random.between(5, 20) * minute, () => {
      this.containerEvent(site, container, 'container.yard-moved', { toBlock: this.random.pick(blocks) });
      this.containerEvent(site, container, 'container.customs-status', { customsStatus: 'pending' }, `${site.code}-customs`);
    });
    const releasedAfter = this.random.between(1, 6) * hour;
    this.after(releasedAfter, () => this.containerEvent(site, container, 'container.customs-status', { customsStatus: 'released' }, `${site.code}-customs`));
    this.after(releasedAfter + this.random.between(0.5, 4) * hour, () => {
      const lane = this.portLane(site, 'import');
      if (lane) this.containerEvent(site, container, 'container.gate-out', { lane }, `${site.code}-gate-ocr`);
    });
  }
}
