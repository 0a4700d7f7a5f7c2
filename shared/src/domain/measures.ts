import { Type, type Static } from '@sinclair/typebox';

const nullableMs = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

/**
 * The figures of one throughput window (or of several merged): declared once, used by
 * the live ticks, the history API's responses and their OpenAPI document.
 */
export const ThroughputMeasures = Type.Object(
  {
    events: Type.Integer({ minimum: 0, description: 'events of every family' }),
    trucksCrossed: Type.Integer({ minimum: 0, description: 'trucks that crossed the border line' }),
    containersMoved: Type.Integer({ minimum: 0, description: 'containers through a port gate, loaded or discharged' }),
    teuMoved: Type.Number({ minimum: 0 }),
    tonnes: Type.Number({
      minimum: 0,
      description: 'gross weight of the trucks that crossed, each once: the weighbridge weight where the truck was weighed, else the weight on its declaration',
    }),
    trucksUnweighed: Type.Integer({ minimum: 0, description: 'trucks that crossed with neither a weighbridge nor a declared weight: the tonnes lack them' }),
    customsHolds: Type.Integer({ minimum: 0 }),
    queueMax: Type.Integer({ minimum: 0, description: 'longest queue sampled (vehicles); 0 without samples' }),
    queueMean: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'mean of the queue samples; null without samples' }),
    laneOpenMinutes: Type.Number({ minimum: 0 }),
    clearanceP50Ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'plate read to gate-out, exact p50; null without clearances' }),
    clearanceP95Ms: nullableMs,
    turnaroundP50Ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'joined the queue to crossed the border line, exact p50' }),
    turnaroundP95Ms: nullableMs,
  },
  { additionalProperties: false, title: 'ThroughputMeasures' },
);
export type ThroughputMeasures = Static<typeof ThroughputMeasures>;

/** A window with nothing in it. */
export const emptyMeasures: Readonly<ThroughputMeasures> = Object.freeze({
  events: 0,
  trucksCrossed: 0,
  containersMoved: 0,
  teuMoved: 0,
  tonnes: 0,
  trucksUnweighed: 0,
  customsHolds: 0,
  queueMax: 0,
  queueMean: null,
  laneOpenMinutes: 0,
  clearanceP50Ms: null,
  clearanceP95Ms: null,
  turnaroundP50Ms: null,
  turnaroundP95Ms: null,
});
