import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Journey } from '../domain/journeys.ts';
import { jsonMessageDecoder } from './json-messages.ts';

const epochMs = (description: string) => Type.Integer({ minimum: 0, maximum: 8_640_000_000_000, description });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One truck's crossing journey at one site as the API and the live feed show it. */
export const JourneyView = Type.Object(
  {
    plate: Type.String(),
    site: Type.String(),
    direction: Type.String(),
    cargoClass: nullable(Type.String()),
    lanes: Type.Array(Type.String(), { description: 'lanes in the order used' }),
    steps: Type.Record(Type.String(), epochMs('first time of the step'), { description: 'step (arrived, queue-joined, plate-read, ...) to time' }),
    startedAt: epochMs('first step'),
    lastStepAt: epochMs('latest step'),
    holdReasons: Type.Array(Type.String()),
    grossKg: nullable(Type.Number({ description: 'gross weight on the weighbridge, kg' })),
    declaredGrossKg: nullable(Type.Number({ description: 'gross weight on the declaration (gate-in), kg; the tonnes count it where no weighbridge weighed the truck' })),
    containers: Type.Array(Type.String()),
    clearanceMs: nullable(Type.Integer({ description: 'plate read to gate-out' })),
    turnaroundMs: nullable(Type.Integer({ description: 'joined the queue to crossed the border line' })),
    complete: Type.Boolean({ description: 'gate-out seen' }),
  },
  { title: 'Journey' },
);
export type JourneyView = Static<typeof JourneyView>;

export function journeyView(journey: Journey): JourneyView {
  const times = Object.values(journey.steps).filter((t): t is number => t !== undefined);
  return {
    plate: journey.plate,
    site: journey.site,
    direction: journey.direction,
    cargoClass: journey.cargoClass ?? null,
    lanes: [...journey.lanes],
    steps: { ...journey.steps } as Record<string, number>,
    startedAt: Math.min(...times),
    lastStepAt: Math.max(...times),
    holdReasons: [...journey.holdReasons],
    grossKg: journey.grossKg ?? null,
    declaredGrossKg: journey.declaredGrossKg ?? null,
    containers: [...journey.containers],
    clearanceMs: journey.clearanceMs ?? null,
    turnaroundMs: journey.turnaroundMs ?? null,
    complete: journey.complete,
  };
}

/**
 * A journey as it stands after stored truck events, on `tower.journeys.v1` (JSON, keyed
 * by plate): published by the aggregator after the events' insert, like ticks, so a
 * live journey never shows a step the history does not have.
 */
export const JourneyUpdate = Type.Object(
  {
    ...JourneyView.properties,
    newestIngestedAt: Type.Integer({ description: 'ingest time (ms) of the newest event this update includes' }),
    publishedAt: Type.Integer({ description: 'when the aggregator published the update, ms' }),
  },
  { additionalProperties: false, title: 'JourneyUpdate' },
);
export type JourneyUpdate = Static<typeof JourneyUpdate>;

export const decodeJourneyUpdate = jsonMessageDecoder(JourneyUpdate, 'a journey update');
