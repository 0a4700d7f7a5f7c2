import { emptyMeasures, type SiteCatalog } from '@tower/shared';
import { kpisOf, noClearances, vietnamDayStart, type ClearanceFigure, type KpisNow, type TileThresholds } from '../domain/kpis.ts';
import type { ClearanceLaneKind, HistoryStore } from './store.ts';

export interface KpiSettings {
  tiles: TileThresholds;
  queueFreshMs: number;
  laneStateLookbackDays: number;
}

/** The KPIs of now for the whole zone and for each site. */
export interface ZoneKpis {
  at: number;
  zone: KpisNow;
  sites: ReadonlyMap<string, KpisNow>;
}

const dayMs = 86_400_000;

/**
 * The KPI tiles and lane grids of the zone and of every site from one round of eight
 * queries, whatever the number of sites: `GET /v1/kpis/now` answers from it and the live
 * gateway publishes it on the `kpis` and `lanes` channels, so both always agree.
 */
export async function readZoneKpis(store: HistoryStore, catalog: SiteCatalog, settings: KpiSettings, at: number): Promise<ZoneKpis> {
  // The current minute is included: both ranges end at the end of the minute `at` falls in.
  const toSeconds = (Math.floor(at / 60_000) + 1) * 60;
  const lastHourRange = { fromSeconds: toSeconds - 3600, toSeconds };
  const todayRange = { fromSeconds: vietnamDayStart(at) / 1000, toSeconds };
  const [zoneLastHour, zoneToday, sitesLastHour, sitesToday, lanesLastHour, laneStates, clearances, people] = await Promise.all([
    store.total(lastHourRange),
    store.total(todayRange),
    store.bySite(lastHourRange),
    store.bySite(todayRange),
    store.byLane(lastHourRange),
    store.laneStates(undefined, at - settings.laneStateLookbackDays * dayMs),
    store.clearances(lastHourRange),
    store.people({ lastHourFromSeconds: lastHourRange.fromSeconds, todayFromSeconds: todayRange.fromSeconds, toSeconds }),
  ]);
  const clearancesOf = (site: string) => {
    const figure = (kind: ClearanceLaneKind): ClearanceFigure => clearances.get(`${site}/${kind}`) ?? noClearances;
    return { smart: figure('smart'), manual: figure('manual') };
  };
  const common = { now: at, lanesLastHour, laneStates, people, thresholds: settings.tiles, queueFreshMs: settings.queueFreshMs };
  const sites = new Map<string, KpisNow>();
  for (const site of catalog.document.sites) {
    sites.set(
      site.id,
      kpisOf({ ...common, site: site.id, sites: [site], clearances: clearancesOf(site.id), lastHour: sitesLastHour.get(site.id) ?? emptyMeasures, today: sitesToday.get(site.id) ?? emptyMeasures }),
    );
  }
  const zone = kpisOf({ ...common, site: null, sites: catalog.document.sites, clearances: clearancesOf(''), lastHour: zoneLastHour, today: zoneToday });
  return { at, zone, sites };
}
