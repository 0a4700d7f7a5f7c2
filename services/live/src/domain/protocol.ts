import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ThroughputTick, laneKinds } from '@tower/shared';

/**
 * The live protocol on `/v1/live` (JSON text frames; docs/live-protocol.md has examples).
 * Declared once: the gateway validates client messages with these schemas and the
 * document is written from them.
 */
export const liveSubprotocol = 'tower.live.v1';

export const liveChannels = ['throughput'] as const;
export type LiveChannel = (typeof liveChannels)[number];

/** Close codes the gateway uses besides the standard ones. */
export const closeCodes = {
  /** The client did not answer pings. */
  unresponsive: 4000,
  /** The client's queue stayed over its limit even after conflation. */
  tooSlow: 4008,
  /** A message that is not JSON or not a known message. */
  protocolError: 4002,
  /** The gateway is shutting down; reconnect (to another instance). */
  goingAway: 1001,
} as const;

const subscriptionId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'chosen by the client; a repeated id replaces that subscription' });

export const ThroughputFilter = Type.Object(
  {
    site: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    lane: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    kind: Type.Optional(Type.Union(laneKinds.map((k) => Type.Literal(k)))),
  },
  { additionalProperties: false },
);
export type ThroughputFilter = Static<typeof ThroughputFilter>;

export const Resume = Type.Object(
  {
    stream: Type.String({ maxLength: 200, description: 'the `stream` of the snapshot the client last had' }),
    seq: Type.Integer({ minimum: 0, description: 'the last seq the client applied' }),
  },
  { additionalProperties: false },
);

export const SubscribeMessage = Type.Object(
  {
    type: Type.Literal('subscribe'),
    id: subscriptionId,
    channel: Type.Union(liveChannels.map((c) => Type.Literal(c))),
    filter: Type.Optional(ThroughputFilter),
    resume: Type.Optional(Resume),
  },
  { additionalProperties: false },
);
export const UnsubscribeMessage = Type.Object({ type: Type.Literal('unsubscribe'), id: subscriptionId }, { additionalProperties: false });
export const ClientMessage = Type.Union([SubscribeMessage, UnsubscribeMessage]);
export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type ClientMessage = Static<typeof ClientMessage>;

const checkClientMessage = TypeCompiler.Compile(ClientMessage);
const checkSubscribe = TypeCompiler.Compile(SubscribeMessage);
const checkUnsubscribe = TypeCompiler.Compile(UnsubscribeMessage);

export class ProtocolError extends Error {
  constructor(
    readonly code: 'not-json' | 'invalid-message' | 'unknown-filter-value' | 'too-many-subscriptions',
    message: string,
    readonly subscription?: string,
  ) {
    super(message);
  }
}

/** A client frame as a message, or a ProtocolError naming the field and the reason. */
export function parseClientMessage(text: string): ClientMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProtocolError('not-json', 'a message must be one JSON object');
  }
  if (checkClientMessage.Check(parsed)) return parsed;
  const type = (parsed as { type?: unknown } | null)?.type;
  const check = type === 'subscribe' ? checkSubscribe : type === 'unsubscribe' ? checkUnsubscribe : undefined;
  const first = check ? check.Errors(parsed).First() : undefined;
  const id = typeof (parsed as { id?: unknown } | null)?.id === 'string' ? ((parsed as { id: string }).id) : undefined;
  throw new ProtocolError('invalid-message', first ? `${first.path || '/'}: ${first.message}` : "/type: must be 'subscribe' or 'unsubscribe'", id);
}

/** What the server sends. `seq` counts the deltas of one stream; a snapshot carries the seq it is current to. */
export const ThroughputSnapshotData = Type.Object({
  /** Last 60 minutes, 1-minute buckets, merged over the filter (as GET /v1/throughput). */
  history: Type.Array(Type.Object({ start: Type.Integer(), events: Type.Integer(), trucksCrossed: Type.Integer(), containersMoved: Type.Integer(), teuMoved: Type.Number(), tonnes: Type.Number() })),
  /** The newest tick of every window of the last hour matching the filter. */
  windows: Type.Array(ThroughputTick),
});
export type ThroughputSnapshotData = Static<typeof ThroughputSnapshotData>;

export type ServerMessage =
  | { type: 'snapshot'; id: string; channel: LiveChannel; stream: string; seq: number; resync: boolean; data: ThroughputSnapshotData }
  | { type: 'resumed'; id: string; stream: string; fromSeq: number; toSeq: number }
  | { type: 'delta'; id: string; seq: number; data: ThroughputTick; conflated?: boolean }
  | { type: 'unsubscribed'; id: string }
  | { type: 'error'; id?: string; code: string; message: string };

/**
 * A delta frame from an already serialised tick: the tick is serialised once per
 * publish and shared by every subscriber; only the envelope is per subscription.
 */
export function deltaFrame(idJson: string, seq: number, tickJson: string, conflated: boolean): string {
  return `{"type":"delta","id":${idJson},"seq":${seq},"data":${tickJson}${conflated ? ',"conflated":true' : ''}}`;
}
