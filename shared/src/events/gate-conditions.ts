import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { directions, Names } from '../catalog/schema.ts';
import { VietnamTime } from '../domain/vietnam-time.ts';
import { jsonMessageDecoder } from './json-messages.ts';
import { epochMs, oneOf } from './slot-changes.ts';

/**
 * The gate's conditions as firms read them (issue 18): per lane group, trucks queuing,
 * the expected wait from the recent throughput, lanes open and the next windows' free
 * places. Computed by the live service from its KPI round and slot board, sent on the
 * live `conditions` channel and by `GET /v1/conditions` (live and slots), and kept in
 * Redis under `gateConditionsKey` for the slots service: one schema for all of them.
 */
export const conditionLevels = ['normal', 'busy', 'congested', 'closed'] as const;
export type ConditionLevel = (typeof conditionLevels)[number];

/** Why `expectedWaitMinutes` is null: no figure is made up. */
export const waitUnknownReasons = ['no-lane-open', 'no-queue-sample', 'too-little-throughput'] as const;
export type WaitUnknownReason = (typeof waitUnknownReasons)[number];

const count = (description: string) => Type.Integer({ minimum: 0, description });

export const ConditionsWindow = Type.Object(
  {
    windowStart: epochMs('start of the slot window'),
    windowEnd: epochMs('end (exclusive) of the slot window'),
    windowStartIso: VietnamTime('start of the slot window'),
    windowEndIso: VietnamTime('end (exclusive) of the slot window'),
    capacity: count('places of the window'),
    placesFree: count('places a firm can still hold (0 when closed)'),
    closed: Type.Boolean({ description: 'closed by an operator: nothing can be held' }),
  },
  { additionalProperties: false },
);
export type ConditionsWindow = Static<typeof ConditionsWindow>;

export const LaneGroupConditions = Type.Object(
  {
    site: Type.String(),
    laneKind: Type.String(),
    direction: oneOf(directions, 'export or import'),
    siteNames: Names,
    names: Names,
    trucksQueuing: Type.Union([count('sum of the fresh queue samples of the group’s lanes'), Type.Null()], { description: 'null: no lane of the group sent a fresh queue sample' }),
    lanesOpen: count('lanes open or congested (a lane in fault, closed or silent is not serving)'),
    lanesTotal: count('lanes of the group'),
    throughputPerHour: count('trucks that crossed the group’s lanes in the last hour'),
    expectedWaitMinutes: Type.Union([count('trucks queuing ÷ throughput per hour, in minutes, rounded up'), Type.Null()]),
    waitUnknownReason: Type.Union([oneOf(waitUnknownReasons, 'why there is no expected wait'), Type.Null()]),
    level: oneOf(conditionLevels, 'closed: no lane open; congested / busy: by the thresholds of GET /v1/conditions'),
    nextWindows: Type.Array(ConditionsWindow, { description: 'the current slot window and the ones after it' }),
    asOf: epochMs('when the figures were read'),
    asOfIso: VietnamTime('when the figures were read'),
  },
  { title: 'LaneGroupConditions', additionalProperties: false },
);
export type LaneGroupConditions = Static<typeof LaneGroupConditions>;

export const ConditionThresholds = Type.Object(
  {
    busyWaitMinutes: count('an expected wait from this many minutes is busy'),
    congestedWaitMinutes: count('an expected wait from this many minutes is congested'),
    busyQueueVehicles: count('a lane queue from this many vehicles is busy (the queue alert’s warning)'),
    congestedQueueVehicles: count('a lane queue from this many vehicles is congested (the queue alert’s critical)'),
    minTrucksPerHour: count('fewer trucks crossed in the last hour: the wait is not judged (too-little-throughput)'),
  },
  { additionalProperties: false },
);
export type ConditionThresholds = Static<typeof ConditionThresholds>;

export const GateConditions = Type.Object(
  {
    asOf: epochMs('when the figures were read'),
    asOfIso: VietnamTime('when the figures were read'),
    thresholds: ConditionThresholds,
    groups: Type.Array(LaneGroupConditions),
  },
  { title: 'GateConditions', additionalProperties: false },
);
export type GateConditions = Static<typeof GateConditions>;

/** The Redis key the live service writes the current view to and the slots service reads (live may write it, slots only read it). */
export const gateConditionsKey = 'conditions:current';

/** The view as stored under `gateConditionsKey`, checked against the schema. */
export const decodeGateConditions = jsonMessageDecoder(GateConditions, 'the gate conditions');

/**
 * The route schema of `GET /v1/conditions` (live and slots, each with its own description,
 * security and problems): `?site=` one site of the catalog, or every site.
 */
export const conditionsRouteSchema = <P extends Record<number, TSchema>>(siteIds: readonly string[], route: { description: string; security: { [scheme: string]: string[] }[]; problems: P }) => ({
  summary: 'The gate’s conditions per lane group: trucks queuing, expected wait, lanes open, the next windows’ free places',
  description: `${route.description} \`expectedWaitMinutes\` is null with \`waitUnknownReason\` when there is no rate to judge it by; the thresholds of \`level\` are in the answer.`,
  tags: ['conditions'],
  security: route.security,
  querystring: Type.Object({ site: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...siteIds], description: 'site id from the catalog; every site without it' })) }, { additionalProperties: false }),
  response: { 200: GateConditions, ...route.problems },
});

/** The view of one site's lane groups, or the whole view without a site. */
export const conditionsOfSite = (view: GateConditions, site: string | undefined): GateConditions => (site === undefined ? view : { ...view, groups: view.groups.filter((g) => g.site === site) });
