import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { journeyView, journeysOf, NotFoundProblem, ProblemDocument, ValidationProblem, type AccessRegistry, type SiteCatalog, type ThroughputStep } from '@tower/shared';
import { alignRange, HistoryRangeError, fillSeries } from '../domain/series.ts';
import { historySchemas, JourneyParams, JourneyQuery, JourneysResponse, KpisNowResponse, SitesResponse, ThroughputSeries } from './schemas.ts';
import { readZoneKpis, type KpiSettings } from './kpi-reader.ts';
import { readerProblems, readersOnly, readerSecurity } from './reader-access.ts';
import type { HistoryStore } from './store.ts';

export interface HistorySettings extends KpiSettings {
  maxBuckets: number;
  journeyLookbackDays: number;
}

export interface HistoryRouteOptions {
  catalog: SiteCatalog;
  /** Display and operator tokens read; firms' keys get 403. */
  access: AccessRegistry;
  store: HistoryStore;
  settings: HistorySettings;
  now: () => number;
}

const dayMs = 86_400_000;
const problems = { 400: ProblemDocument, ...readerProblems, 503: ProblemDocument };

/** The history API: sites, throughput series, the KPIs of now, a truck's journeys. */
export function registerHistoryRoutes(root: FastifyInstance, { catalog, access, store, settings, now }: HistoryRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { ThroughputQuery, KpisQuery } = historySchemas(catalog);
  const onRequest = readersOnly(access);

  app.get(
    '/v1/sites',
    { schema: { summary: 'The crossings with their lanes and zones, along the border line west to east, the ports last, and the clearance points', tags: ['history'], security: readerSecurity, response: { 200: SitesResponse, ...readerProblems } }, onRequest },
    async () => ({ sites: catalog.alongBorder(), clearancePoints: catalog.document.clearancePoints ?? [] }),
  );

  app.get(
    '/v1/throughput',
    {
      schema: {
        summary: 'Throughput per bucket over a range, filtered by site, lane and lane kind',
        description: 'Every bucket of the range is present; empty ones are zero. Days (step=1d) run from midnight in Vietnam (UTC+7).',
        tags: ['history'],
        security: readerSecurity,
        querystring: ThroughputQuery,
        response: { 200: ThroughputSeries, ...problems },
      },
      onRequest,
    },
    async (request) => {
      const { site, lane, kind, from, to } = request.query;
      const step: ThroughputStep = request.query.step ?? '1m';
      const laneSite = lane === undefined ? undefined : catalog.lane(lane)?.site.id;
      if (site !== undefined && laneSite !== undefined && laneSite !== site) {
        throw new ValidationProblem([{ field: '/querystring/lane', reason: `belongs to site ${laneSite}, not ${site}` }]);
      }
      let range;
      try {
        range = alignRange({ from, to, step }, now(), settings.maxBuckets);
      } catch (error) {
        if (error instanceof HistoryRangeError) throw new ValidationProblem([{ field: `/querystring/${error.field}`, reason: error.reason }]);
        throw error;
      }
      const stored = await store.series({ site, lane, laneKind: kind, fromSeconds: range.fromMs / 1000, toSeconds: range.toMs / 1000, step });
      return { site: site ?? null, lane: lane ?? null, kind: kind ?? null, step, from: range.fromMs, to: range.toMs, buckets: fillSeries(range, stored) };
    },
  );

  app.get(
    '/v1/kpis/now',
    {
      schema: {
        summary: 'The KPI tiles and lane grid of now: last hour, today (Vietnam day), lane status and queues',
        description: 'Without `site`, the whole zone.',
        tags: ['history'],
        security: readerSecurity,
        querystring: KpisQuery,
        response: { 200: KpisNowResponse, ...problems },
      },
      onRequest,
    },
    async (request) => {
      const site = request.query.site;
      const kpis = await readZoneKpis(store, catalog, settings, now());
      return site === undefined ? kpis.zone : kpis.sites.get(site)!;
    },
  );

  app.get(
    '/v1/journeys/:plate',
    {
      schema: {
        summary: "A truck's crossings: steps, lanes, holds, clearance and turnaround",
        tags: ['history'],
        security: readerSecurity,
        params: JourneyParams,
        querystring: JourneyQuery,
        response: { 200: JourneysResponse, 404: ProblemDocument, ...problems },
      },
      onRequest,
    },
    async (request) => {
      const { plate } = request.params;
      const from = now() - (request.query.days ?? settings.journeyLookbackDays) * dayMs;
      const journeys = journeysOf(await store.plateEvents(plate, from));
      if (journeys.length === 0) throw new NotFoundProblem(`no event of plate ${plate} since ${new Date(from).toISOString()}`);
      return { plate, from, journeys: journeys.map(journeyView).reverse() };
    },
  );
}
