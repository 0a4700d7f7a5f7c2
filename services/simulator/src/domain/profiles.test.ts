import { emptyMeasures, journeysOf, loadCatalog, type LaneEvent, type ThroughputMeasures, type TowerEvent, type TruckEvent } from '@tower/shared';
import { describe, expect, it } from 'vitest';
import { alertConditions, alertRules, defaultAlertThresholds, type AlertRule } from '../../../live/src/domain/alerts.ts';
import { defaultTileThresholds, kpisOf, type ClearanceFigure, type StoredLaneState } from '../../../live/src/domain/kpis.ts';
import { demoScript, trafficProfiles } from './profiles.ts';
import { TrafficSimulation } from './traffic.ts';

const catalog = loadCatalog();
const minute = 60_000;

/**
 * The KPI round the live gateway would compute at `now` from these events (all within
 * its last hour), as the aggregator stores them: border crossings and holds counted,
 * clearance (plate read to gate-out) on the gate-out's lane with ClickHouse's exact
 * quantile, each lane's last state event and queue sample; and each site's clearance
 * tiles as the history store reads them: by the gate-out lane's kind, a journey held by
 * customs counted apart and not timed.
 */
function kpisAt(events: readonly TowerEvent[], now: number) {
  const seen = events.filter((e) => e.observedAt <= now);
  const trucks = seen.filter((e): e is TruckEvent => e.type.startsWith('truck.'));
  const byPlate = new Map<string, TruckEvent[]>();
  for (const e of trucks) byPlate.set(e.plate, [...(byPlate.get(e.plate) ?? []), e]);
  const clearances = new Map<string, number[]>();
  /** Clearances of the trucks that passed by `site/lane kind`, and the held trucks' count. */
  const passed = new Map<string, number[]>();
  const held = new Map<string, number>();
  for (const journeys of byPlate.values()) {
    for (const journey of journeysOf(journeys)) {
      const lane = journey.lanes.at(-1);
      if (journey.clearanceMs === undefined || !lane) continue;
      clearances.set(lane, [...(clearances.get(lane) ?? []), journey.clearanceMs]);
      const kindKey = `${journey.site}/${catalog.lane(lane)?.lane.kind}`;
      if (journey.holdReasons.length > 0) held.set(kindKey, (held.get(kindKey) ?? 0) + 1);
      else passed.set(kindKey, [...(passed.get(kindKey) ?? []), journey.clearanceMs]);
    }
  }
  const quantile = (values: number[] | undefined, q: number) => {
    if (!values) return null;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  };
  const p95 = (values: number[] | undefined) => quantile(values, 0.95);
  const figure = (site: string, kind: string): ClearanceFigure => {
    const times = passed.get(`${site}/${kind}`);
    return { trucks: times?.length ?? 0, p50Ms: quantile(times, 0.5), p95Ms: p95(times), heldTrucks: held.get(`${site}/${kind}`) ?? 0 };
  };
  const measures = (of: readonly TruckEvent[], lane?: string): ThroughputMeasures => ({
    ...emptyMeasures,
    trucksCrossed: of.filter((e) => e.type === 'truck.border-crossed').length,
    customsHolds: of.filter((e) => e.type === 'truck.customs-held').length,
    clearanceP95Ms: lane ? p95(clearances.get(lane)) : null,
  });
  const laneEvents = seen.filter((e): e is LaneEvent => e.type.startsWith('lane.'));
  return catalog.document.sites.map((site) => {
    const lanesLastHour = new Map(site.lanes.map((lane) => [`${site.id}/${lane.id}`, measures(trucks.filter((e) => e.lane === lane.id), lane.id)]));
    const laneStates: StoredLaneState[] = site.lanes.map((lane) => {
      const own = laneEvents.filter((e) => e.lane === lane.id);
      const state = own.findLast((e) => e.type !== 'lane.queue-sampled' && e.type !== 'lane.igv-telemetry');
      const sample = own.findLast((e) => e.type === 'lane.queue-sampled');
      return { site: site.id, lane: lane.id, stateType: state?.type ?? '', stateAt: state?.observedAt ?? 0, queueLength: sample && 'queueLength' in sample ? sample.queueLength : 0, queueAt: sample?.observedAt ?? 0 };
    });
    const siteMeasures = measures(trucks.filter((e) => e.site === site.id));
    return kpisOf({ site: site.id, sites: [site], now, lastHour: siteMeasures, today: siteMeasures, lanesLastHour, laneStates, people: [], clearances: { smart: figure(site.id, 'smart'), manual: figure(site.id, 'manual') }, thresholds: defaultTileThresholds, queueFreshMs: 2 * minute });
  });
}

/** The alert rules whose condition holds at some minute of the first ten. */
function rulesInFirstTenMinutes(start: number, profile = trafficProfiles.demo, seed = 20260126): Set<AlertRule> {
  const simulation = new TrafficSimulation(catalog, { seed, rate: 1, start, profile });
  const events: TowerEvent[] = [];
  const rules = new Set<AlertRule>();
  for (let at = start + minute; at <= start + 10 * minute; at += minute) {
    events.push(...simulation.advanceTo(at));
    for (const condition of alertConditions(kpisAt(events, at), defaultAlertThresholds)) rules.add(condition.rule);
  }
  return rules;
}

describe('the demo profile', () => {
  // Starts across the day (Vietnam time), on a day with no Tết and no harvest: the demo plays its busy day anyway.
  it.each(['04:00', '10:30', '17:45', '23:10'])('meets every alert rule’s condition within ten simulated minutes of a start at %s', (time) => {
    const start = Date.parse(`2026-10-13T${time}:00+07:00`);
    expect([...rulesInFirstTenMinutes(start)].sort()).toEqual([...alertRules].sort());
  });

  it('holds for other seeds too', () => {
    const start = Date.parse('2026-10-14T09:00:00+07:00');
    for (const seed of [1, 2, 3]) expect([...rulesInFirstTenMinutes(start, trafficProfiles.demo, seed)].sort(), `seed ${seed}`).toEqual([...alertRules].sort());
  });

  it('moves: dozens of trucks cross the zone in the first fifteen minutes', () => {
    const start = Date.parse('2026-10-13T10:30:00+07:00');
    const events = new TrafficSimulation(catalog, { seed: 20260126, rate: 1, start, profile: trafficProfiles.demo }).advanceTo(start + 15 * minute);
    expect(events.filter((e) => e.type === 'truck.border-crossed').length).toBeGreaterThan(30);
  });

  it('names only lanes and sites of the catalog in its script', () => {
    for (const episode of demoScript) {
      if (episode.kind === 'fault') expect(catalog.lane(episode.lane), episode.lane).toBeDefined();
      else if (episode.kind === 'slowdown') for (const lane of episode.lanes) expect(catalog.lane(lane), lane).toBeDefined();
      else expect(catalog.site(episode.site), episode.site).toBeDefined();
    }
  });
});

describe('a script', () => {
  it('plays nothing at a site being built or with no truck lanes', () => {
    const start = Date.parse('2026-10-13T10:30:00+07:00');
    const profile = {
      ...trafficProfiles.real,
      episodes: [
        { kind: 'convoy', site: 'bac-luan-1', direction: 'export', cargoClass: 'other', atMinute: 1, minutes: 2, trucks: 5, holdShare: 0 },
        { kind: 'convoy', site: 'van-ninh', direction: 'import', cargoClass: 'machinery', atMinute: 1, minutes: 2, trucks: 5, holdShare: 0 },
        { kind: 'fault', lane: 'vn-port-gate-ex-1', atMinute: 1, minutes: 5, faultCode: 'POWER-DIP' },
      ],
      repeatEveryMinutes: 0,
    } as const;
    const events = new TrafficSimulation(catalog, { seed: 4, rate: 1, start, profile }).advanceTo(start + 30 * minute);
    expect(events.filter((e) => (e.site === 'bac-luan-1' && e.type.startsWith('truck.')) || e.site === 'van-ninh')).toEqual([]);
  });
});

describe('the real profile', () => {
  const start = Date.parse('2026-10-13T10:30:00+07:00');

  it('is what the simulator plays without a profile: the press-derived volumes, no script', () => {
    const real = new TrafficSimulation(catalog, { seed: 9, rate: 1, start, profile: trafficProfiles.real }).advanceTo(start + 3 * 3_600_000);
    const plain = new TrafficSimulation(catalog, { seed: 9, rate: 1, start }).advanceTo(start + 3 * 3_600_000);
    expect(real).toEqual(plain);
    expect(trafficProfiles.real).toEqual({ volumeFactor: 1, season: 'calendar', episodes: [], repeatEveryMinutes: 0 });
  });

  it('stays calm: no alert rule fires in its first ten minutes', () => {
    expect([...rulesInFirstTenMinutes(start, trafficProfiles.real)]).toEqual([]);
  });
});
