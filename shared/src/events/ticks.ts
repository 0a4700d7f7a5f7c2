import { Type, type Static } from '@sinclair/typebox';
import { ThroughputMeasures } from '../domain/measures.ts';
import { jsonMessageDecoder } from './json-messages.ts';

/**
 * A live throughput tick on `tower.throughput.v1` (JSON, keyed `site/lane`): the current
 * figures of one 1-minute window of one site, lane, direction and lane kind, read back
 * from the stored aggregates, so the wall shows what the history will show; or, flagged
 * `provisional`, estimated before the insert and replaced by the confirmed tick.
 */
export const ThroughputTick = Type.Object(
  {
    site: Type.String(),
    lane: Type.String({ description: "lane id, '' for events not tied to a lane" }),
    direction: Type.String({ description: "export, import, or '' when unknown" }),
    laneKind: Type.String(),
    windowStart: Type.Integer({ description: 'window start, ms since the epoch' }),
    windowEnd: Type.Integer({ description: 'window end (exclusive), ms' }),
    final: Type.Boolean({ description: 'the watermark has passed the window: only late events can still change it' }),
    correction: Type.Boolean({ description: 'a late event changed a final window' }),
    ...ThroughputMeasures.properties,
    newestIngestedAt: Type.Integer({ description: 'ingest time (ms) of the newest event this tick includes: end-to-end latency starts here' }),
    publishedAt: Type.Integer({ description: 'when the aggregator published the tick, ms' }),
    provisional: Type.Optional(
      Type.Boolean({
        description:
          'estimated in memory from a decoded batch before its insert (shown at once); the confirmed tick read back from the stored aggregates replaces it. Absent (older aggregators) means confirmed',
      }),
    ),
  },
  { additionalProperties: false, title: 'ThroughputTick' },
);
export type ThroughputTick = Static<typeof ThroughputTick>;

export const decodeTick = jsonMessageDecoder(ThroughputTick, 'a throughput tick');
