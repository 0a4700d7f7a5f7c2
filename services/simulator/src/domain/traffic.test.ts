import { JourneyTracker, createEventValidator, loadCatalog, type TowerEvent, type TruckEvent } from '@tower/shared';
import { describe, expect, it } from 'vitest';
import { TrafficSimulation } from './traffic.ts';
import { dailyProfile, exportShare, goodsTonnesPerYear, seaborneContainersPerDay, seaborneShare, seasonalFactor, tonnesPerContainer, tonnesPerTruck, trucksPerDay } from './volumes.ts';

const catalog = loadCatalog();
// A Tuesday in October at midnight, Vietnam time: no Tết, no harvest.
const start = Date.parse('2026-10-13T00:00:00+07:00');

function run(hours: number, seed = 7, rate = 1): TowerEvent[] {
  const simulation = new TrafficSimulation(catalog, { seed, rate, start });
  const events: TowerEvent[] = [];
  for (let t = start; t <= start + hours * 3600_000; t += 60_000) events.push(...simulation.advanceTo(t));
  return events;
}

const day = run(24, 7, 1);
const trucks = (events: TowerEvent[]) => events.filter((e): e is TruckEvent => e.type.startsWith('truck.'));

describe('traffic simulation', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(run(2, 11)).toEqual(run(2, 11));
    expect(run(2, 12).map((e) => e.eventId)).not.toEqual(run(2, 11).map((e) => e.eventId));
  });

  it('never reuses an eventId when restarted later with the same seed (ingest binds an id to its first content)', () => {
    const later = new TrafficSimulation(catalog, { seed: 11, rate: 1, start: start + 60_000 }).advanceTo(start + 2 * 3600_000);
    const earlier = new Set(run(2, 11).map((e) => e.eventId));
    expect(later.length).toBeGreaterThan(0);
    expect(later.filter((e) => earlier.has(e.eventId))).toEqual([]);
  });

  it('emits only events the ingest validator accepts, in time order, never after the clock', () => {
    const validate = createEventValidator(catalog, { now: () => start + 25 * 3600_000, maxFutureMs: 0, maxAgeMs: 30 * 24 * 3600_000 });
    for (const event of day) {
      const result = validate(event);
      expect(result.ok ? [] : result.issues, event.type).toEqual([]);
    }
    expect(day.every((e, i) => i === 0 || e.observedAt >= day[i - 1]!.observedAt)).toBe(true);
    expect(new Set(day.map((e) => e.eventId)).size).toBe(day.length);
  }, 60_000); // a day of events through the validator: 1.5 s alone, over 5 s on the busy 2-core machine

  it('produces about 296 trucks a day across the zone (the land share of the goods), 55% for export', () => {
    const arrivals = trucks(day).filter((e) => e.type === 'truck.arrived');
    expect(arrivals.length).toBeGreaterThan(240);
    expect(arrivals.length).toBeLessThan(355);
    const exports = arrivals.filter((e) => e.direction === 'export').length / arrivals.length;
    expect(exports).toBeGreaterThan(0.45);
    expect(exports).toBeLessThan(0.65);
    expect(new Set(arrivals.map((e) => e.site))).toEqual(new Set(['bac-luan-2', 'km3-4-hai-yen', 'ka-long', 'po-hen', 'hoanh-mo', 'bac-phong-sinh']));
  });

  it('sends no trucks over Bắc Luân I (its gates are for people) and nothing from Vạn Ninh, still being built', () => {
    expect(day.filter((e) => e.site === 'bac-luan-1' && !e.type.startsWith('lane.'))).toEqual([]);
    expect(day.filter((e) => e.site === 'van-ninh')).toEqual([]);
    expect(day.some((e) => e.type === 'container.discharged' && e.site === 'van-gia')).toBe(true);
  });

  it('takes about 22,000 people a day through Bắc Luân I’s biometric gates (8 M a year), as many out as in, busier by day, most checked by the gate', () => {
    const people = day.filter((e): e is Extract<TowerEvent, { type: 'lane.person-crossed' }> => e.type === 'lane.person-crossed');
    // 8 M a year is 21,918 a day; a Poisson count of that size is within ±3 % (about 7 standard deviations).
    expect(people.length).toBeGreaterThan(21_918 * 0.97);
    expect(people.length).toBeLessThan(21_918 * 1.03);
    expect(new Set(people.map((e) => e.site))).toEqual(new Set(['bac-luan-1']));
    const exits = people.filter((e) => e.direction === 'exit').length;
    expect(Math.abs(exits / people.length - 0.5)).toBeLessThan(0.02);
    // Exits through exit gates, entries through entry gates, spread over the four gates each way.
    expect(new Set(people.filter((e) => e.direction === 'exit').map((e) => e.lane))).toEqual(new Set(['bl1-biometric-gate-ex-1', 'bl1-biometric-gate-ex-2', 'bl1-biometric-gate-ex-3', 'bl1-biometric-gate-ex-4']));
    const hourOf = (e: TowerEvent) => new Date(e.observedAt + 7 * 3600_000).getUTCHours();
    expect(people.filter((e) => hourOf(e) === 10).length).toBeGreaterThan(2 * people.filter((e) => hourOf(e) === 3).length);
    expect(people.filter((e) => e.verification === 'officer').length / people.length).toBeLessThan(0.1);
    // Gates for people report no vehicle queue, and people are never trucks.
    expect(day.filter((e) => e.site === 'bac-luan-1' && (e.type === 'lane.queue-sampled' || e.type === 'lane.congested'))).toEqual([]);
  });

  it('scales people with SIM_PEOPLE_RATE, not with the goods’ SIM_RATE', () => {
    const count = (options: { rate: number; peopleRate?: number }) =>
      new TrafficSimulation(catalog, { seed: 5, start, ...options }).advanceTo(start + 2 * 3600_000).filter((e) => e.type === 'lane.person-crossed').length;
    const base = count({ rate: 1 });
    expect(count({ rate: 10 })).toBeLessThan(base * 1.3);
    expect(count({ rate: 1, peopleRate: 3 })).toBeGreaterThan(base * 2.4);
  });

  it('exports mostly farm produce at Km3+4, the zone’s farm-produce export point, and a wider mix at Bắc Luân II', () => {
    const farmShare = (site: string) => {
      const exports = trucks(day).filter((e) => e.type === 'truck.arrived' && e.site === site && e.direction === 'export');
      return exports.filter((e) => e.cargoClass === 'farm-produce').length / exports.length;
    };
    expect(farmShare('km3-4-hai-yen')).toBeGreaterThan(0.6);
    expect(farmShare('bac-luan-2')).toBeLessThan(0.5);
  });

  it('clears trucks on Bắc Luân II smart lanes in about 15 s and on manual lanes in minutes', () => {
    const clearance = (lanePrefix: string) => {
      const byPlate = new Map<string, TruckEvent[]>();
      for (const e of trucks(day)) byPlate.set(e.plate, [...(byPlate.get(e.plate) ?? []), e]);
      const times: number[] = [];
      for (const journey of byPlate.values()) {
        const read = journey.find((e) => e.type === 'truck.plate-read');
        const out = journey.find((e) => e.type === 'truck.gate-out');
        const held = journey.some((e) => e.type === 'truck.customs-held');
        if (read && out && !held && read.lane?.startsWith(lanePrefix)) times.push((out.observedAt - read.observedAt) / 1000);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)]!;
    };
    expect(clearance('bl2-smart')).toBeGreaterThan(10);
    expect(clearance('bl2-smart')).toBeLessThan(20);
    expect(clearance('km34-manual')).toBeGreaterThan(5 * 60);
  });

  it('declares every truck’s gross weight at the gate-in, within 3 % of what a weighbridge weighs, so sites without one add tonnes', () => {
    const gateIns = trucks(day).filter((e) => e.type === 'truck.gate-in');
    expect(gateIns.length).toBeGreaterThan(200);
    expect(gateIns.filter((e) => e.declaredGrossKg === undefined)).toEqual([]);
    const weighed = new Map(trucks(day).flatMap((e) => (e.type === 'truck.weighed' ? [[e.plate, e.grossKg] as const] : [])));
    const compared = gateIns.filter((e) => weighed.has(e.plate));
    expect(compared.length).toBeGreaterThan(50);
    for (const e of compared) expect(Math.abs(e.declaredGrossKg! / weighed.get(e.plate)! - 1), e.plate).toBeLessThanOrEqual(0.0301);
    // Tonnes as the aggregator counts them: every site adds some, no crossing goes unweighed.
    const tracker = new JourneyTracker();
    const tonnes = new Map<string, number>();
    for (const e of trucks(day)) {
      const { crossedKg, crossedWeight } = tracker.apply(e);
      expect(crossedWeight, e.plate).not.toBe('none');
      tonnes.set(e.site, (tonnes.get(e.site) ?? 0) + crossedKg / 1000);
    }
    for (const site of ['bac-luan-2', 'km3-4-hai-yen', 'ka-long', 'po-hen', 'hoanh-mo', 'bac-phong-sinh']) expect(tonnes.get(site) ?? 0, site).toBeGreaterThan(0);
    expect(tonnes.get('km3-4-hai-yen')).toBeGreaterThan(1000);
  });

  it('moves Vạn Gia’s sea share of the goods in containers, about 41 a day, apart from the trucks', () => {
    const moved = day.filter((e) => e.site === 'van-gia' && (e.type === 'container.discharged' || e.type === 'container.gate-in'));
    expect(moved.length).toBeGreaterThan(seaborneContainersPerDay * 0.5);
    expect(moved.length).toBeLessThan(seaborneContainersPerDay * 1.6);
    expect(day.filter((e) => e.site === 'van-gia' && e.type.startsWith('truck.'))).toEqual([]);
  });

  it('keeps each truck’s steps in journey order', () => {
    const order = ['truck.arrived', 'truck.queue-joined', 'truck.plate-read', 'truck.predeclaration-matched', 'truck.weighed', 'truck.scanned', 'truck.customs-held', 'truck.customs-released', 'truck.gate-in', 'truck.border-crossed', 'truck.gate-out'];
    const byPlate = new Map<string, string[]>();
    for (const e of trucks(day)) byPlate.set(e.plate, [...(byPlate.get(e.plate) ?? []), e.type]);
    for (const [plate, steps] of byPlate) {
      const indices = steps.map((s) => order.indexOf(s));
      expect(indices, plate).toEqual([...indices].sort((a, b) => a - b));
    }
  });

  it('reports lanes, IGVs and vessel calls', () => {
    const types = new Set(day.map((e) => e.type));
    for (const type of ['lane.opened', 'lane.queue-sampled', 'lane.igv-telemetry', 'container.discharged', 'container.yard-moved', 'container.customs-status', 'container.gate-in', 'truck.customs-held']) {
      expect(types.has(type as TowerEvent['type']), type).toBe(true);
    }
  });

  it('never gives a plate to a truck while another truck with that plate is still on its way (journeys are cut by plate)', () => {
    // Busy enough for drawn plates to collide: 200 times the press volume for 4 hours (before the fix, 14H-940.70 came twice at Km3+4).
    const simulation = new TrafficSimulation(catalog, { seed: 3, rate: 200, start });
    const onTheWay = new Map<string, TruckEvent>();
    const reused: string[] = [];
    let journeys = 0;
    for (let t = start; t <= start + 4 * 3600_000; t += 60_000) {
      for (const e of trucks(simulation.advanceTo(t))) {
        if (e.type === 'truck.arrived') {
          journeys += 1;
          const other = onTheWay.get(e.plate);
          if (other) reused.push(`${e.plate} arrived at ${e.site} while on its way at ${other.site}`);
          onTheWay.set(e.plate, e);
        } else if (e.type === 'truck.gate-out') onTheWay.delete(e.plate);
      }
    }
    expect(journeys).toBeGreaterThan(500);
    expect(reused).toEqual([]);
  });

  it('scales arrivals with the rate multiplier', () => {
    const fast = trucks(run(2, 7, 10)).filter((e) => e.type === 'truck.arrived').length;
    const normal = trucks(run(2, 7, 1)).filter((e) => e.type === 'truck.arrived').length;
    expect(fast).toBeGreaterThan(normal * 5);
  });
});

describe('volumes', () => {
  it('split the press’s goods between land and sea without counting any twice: trucks carry the land share, Vạn Gia the rest', () => {
    const land = trucksPerDay * tonnesPerTruck * 365;
    const sea = seaborneContainersPerDay * tonnesPerContainer * 365;
    expect(Math.abs(land / (goodsTonnesPerYear * (1 - seaborneShare)) - 1)).toBeLessThan(0.01);
    expect(Math.abs((land + sea) / goodsTonnesPerYear - 1)).toBeLessThan(0.01);
    // Value per truck on land, 90 % of the Móng Cái branch's 6,293.21 M USD: plausible for the mix.
    const usdPerTruck = (6_293.21e6 * (1 - seaborneShare)) / (trucksPerDay * 365);
    expect(usdPerTruck).toBeGreaterThan(40_000);
    expect(usdPerTruck).toBeLessThan(65_000);
    expect(exportShare).toBe(0.55);
  });


  it('are quieter at night than in the morning peak, and rise before Tết and in the harvest', () => {
    expect(dailyProfile(Date.parse('2026-10-13T03:00:00+07:00'))).toBeLessThan(dailyProfile(Date.parse('2026-10-13T10:00:00+07:00')));
    expect(seasonalFactor(Date.parse('2027-01-20T12:00:00+07:00'), 'other')).toBe(1.5);
    expect(seasonalFactor(Date.parse('2027-03-20T12:00:00+07:00'), 'other')).toBe(1);
    expect(seasonalFactor(Date.parse('2026-06-10T12:00:00+07:00'), 'farm')).toBe(1.4);
  });
});
