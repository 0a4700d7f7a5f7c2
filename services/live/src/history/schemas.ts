import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ClearancePoint, JourneyView, Site, ThroughputMeasures, laneKinds, throughputSteps, type SiteCatalog } from '@tower/shared';
import { clearanceVerdicts, lanesOpenLevels, laneStatuses, queueLevels } from '../domain/kpis.ts';

/**
 * Request and response schemas of the history API: fastify validates requests and
 * serialises responses with them, and the OpenAPI document at /docs is built from them.
 * Site and lane ids are enums of the catalog, so a wrong id is a 400 that lists the
 * right ones.
 */

const oneOf = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], description });
const epochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000, description });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export function historySchemas(catalog: SiteCatalog) {
  const siteIds = catalog.document.sites.map((s) => s.id);
  const laneIds = catalog.document.sites.flatMap((s) => s.lanes.map((l) => l.id));
  const site = oneOf(siteIds, 'site id from the catalog (GET /v1/sites)');

  const ThroughputQuery = Type.Object(
    {
      site: Type.Optional(site),
      lane: Type.Optional(oneOf(laneIds, 'lane id from the catalog; must belong to `site` when both are given')),
      kind: Type.Optional(oneOf(laneKinds, 'lane kind')),
      from: Type.Optional(epochMs('start, ms since the epoch; moved back to the start of its bucket, which must not start before the epoch (1d: at least 61200000, the first Vietnam midnight). Default: 60 × 1m, 72 × 5m, 48 × 1h or 30 × 1d buckets before `to`, none before the epoch')),
      to: Type.Optional(epochMs('end (exclusive), ms since the epoch; moved forward to the end of its bucket, which must not pass the maximum. Default: now, the current bucket included')),
      step: Type.Optional(oneOf(throughputSteps, 'bucket size; 1d buckets are Vietnam days (from midnight UTC+7). Default 1m')),
    },
    { additionalProperties: false },
  );

  const KpisQuery = Type.Object({ site: Type.Optional(site) }, { additionalProperties: false });

  return { ThroughputQuery, KpisQuery };
}

export type ThroughputQuery = Static<ReturnType<typeof historySchemas>['ThroughputQuery']>;
export type KpisQuery = Static<ReturnType<typeof historySchemas>['KpisQuery']>;

export const SitesResponse = Type.Object(
  {
    sites: Type.Array(Site),
    clearancePoints: Type.Array(ClearancePoint, { description: 'the clearance points (điểm thông quan) of the province’s list; `site` links those modelled as a site, the others carry no traffic' }),
  },
  { title: 'Sites' },
);

export const Bucket = Type.Object({ start: epochMs('bucket start'), ...ThroughputMeasures.properties }, { title: 'ThroughputBucket' });

export const ThroughputSeries = Type.Object(
  {
    site: nullable(Type.String()),
    lane: nullable(Type.String()),
    kind: nullable(Type.String()),
    step: Type.String(),
    from: epochMs('start of the first bucket'),
    to: epochMs('end (exclusive) of the last bucket'),
    buckets: Type.Array(Bucket, { description: 'every bucket of the range in order; those with no events are zero' }),
  },
  { title: 'ThroughputSeries' },
);

const LaneNow = Type.Object(
  {
    site: Type.String(),
    lane: Type.String(),
    kind: Type.String(),
    direction: Type.String(),
    serviceRatePerHour: Type.Integer(),
    status: Type.Unsafe<(typeof laneStatuses)[number]>({ type: 'string', enum: [...laneStatuses], description: 'from the last open, closed, congested, fault or cleared event' }),
    statusSince: nullable(epochMs('when the status began')),
    queueLength: nullable(Type.Integer({ description: 'last queue sample while fresh' })),
    queueSampledAt: nullable(epochMs('time of that sample')),
    lastHour: Type.Object({
      trucksCrossed: Type.Integer(),
      containersMoved: Type.Integer(),
      events: Type.Integer(),
      clearanceP95Ms: Type.Union([Type.Integer(), Type.Null()], { description: 'exact p95 of the clearances through this lane in the last hour' }),
      people: Type.Integer({ minimum: 0, description: 'people through this biometric gate in the last hour (0 for every other lane); never in trucksCrossed' }),
    }),
  },
  { title: 'LaneNow' },
);

const clearanceFigure = {
  trucks: Type.Integer({ minimum: 0, description: 'trucks that left through these lanes in the last hour without a customs hold: the sample the times are taken from' }),
  p50Ms: nullable(Type.Integer({ description: 'plate read to gate-out, exact p50 of those trucks' })),
  p95Ms: nullable(Type.Integer({ description: 'exact p95 of those trucks' })),
  heldTrucks: Type.Integer({ minimum: 0, description: 'trucks held by customs between plate read and gate-out: counted here, not timed' }),
};
const ClearanceFigure = Type.Object(clearanceFigure);
const JudgedClearance = Type.Object({
  ...clearanceFigure,
  verdict: oneOf(clearanceVerdicts, 'p95 within or over the target; too-few: fewer trucks than minTrucks, not judged; none: no truck'),
});

const PeopleCount = Type.Object({
  exits: Type.Integer({ minimum: 0, description: 'people who left Vietnam (xuất cảnh) through an exit gate' }),
  entries: Type.Integer({ minimum: 0, description: 'people who entered Vietnam (nhập cảnh) through an entry gate' }),
});

export const KpisNowResponse = Type.Object(
  {
    site: nullable(Type.String({ description: 'null: every site of the zone' })),
    at: epochMs('when the figures were read'),
    dayStart: epochMs("start of the operators' day (midnight in Vietnam)"),
    lastHour: ThroughputMeasures,
    today: ThroughputMeasures,
    clearance: Type.Object({
      targetMs: Type.Integer({ description: 'the smart lanes’ p95 target (CLEARANCE_TARGET_MS)' }),
      minTrucks: Type.Integer({ description: 'fewest trucks a verdict is given on (KPI_MIN_TRUCKS)' }),
      smart: JudgedClearance,
      manual: ClearanceFigure,
    }),
    lanesOpen: Type.Integer({ description: 'lanes open or congested (a lane in fault is not serving)' }),
    lanesTotal: Type.Integer(),
    lanesOpenLevel: oneOf(lanesOpenLevels, 'warning: fewer than KPI_LANES_OPEN_WARNING_PERCENT of the lanes open'),
    people: Type.Object(
      { lastHour: PeopleCount, today: PeopleCount },
      { description: 'person crossings through the biometric gates in scope (Bắc Luân I), apart from every truck figure' },
    ),
    queueLength: Type.Integer({ description: 'vehicles queued over the lanes with a fresh sample' }),
    queueLongest: Type.Integer({ description: 'longest fresh queue of one lane' }),
    queueLevel: oneOf(queueLevels, 'the longest lane queue against ALERT_QUEUE_WARNING and ALERT_QUEUE_CRITICAL'),
    lanes: Type.Array(LaneNow),
  },
  { title: 'KpisNow' },
);

export const JourneyParams = Type.Object({ plate: Type.String({ minLength: 5, maxLength: 16, description: 'plate as read, e.g. 14C-123.45 or 桂P·12345 (URL-encoded)' }) });
export const JourneyQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, description: 'how many days back to look; default JOURNEY_LOOKBACK_DAYS (7)' })) },
  { additionalProperties: false },
);

export const JourneysResponse = Type.Object(
  {
    plate: Type.String(),
    from: epochMs('start of the lookback'),
    journeys: Type.Array(JourneyView, { description: 'newest first' }),
  },
  { title: 'Journeys' },
);
