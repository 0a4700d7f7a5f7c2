import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ThroughputTick, firmIdPattern, laneKinds, type GateConditions, type JourneyUpdate, type JourneyView, type LaneGroupConditions, type SlotAvailability, type SlotBookingView } from '@tower/shared';
import type { Alert } from './alerts.ts';
import type { KpisNow, LaneNow } from './kpis.ts';

/**
 * The live protocol on `/v1/live` (JSON text frames; docs/live-protocol.md has examples).
 * Declared once: the gateway validates client messages with these schemas and the
 * document is written from them.
 */
export const liveSubprotocol = 'tower.live.v1';

export const liveChannels = ['throughput', 'kpis', 'lanes', 'alerts', 'journeys', 'slots', 'bookings', 'conditions'] as const;
export type LiveChannel = (typeof liveChannels)[number];

/** Close codes the gateway uses besides the standard ones. */
export const closeCodes = {
  /** The client did not answer pings. */
  unresponsive: 4000,
  /** The client's queue stayed over its limit even after conflation. */
  tooSlow: 4008,
  /** A message that is not JSON or not a known message. */
  protocolError: 4002,
  /** The client kept sending over its message rate after a `rate-limited` error. */
  messageRate: 4029,
  /** The gateway is shutting down; reconnect (to another instance). */
  goingAway: 1001,
} as const;

const subscriptionId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'chosen by the client; a repeated id replaces that subscription' });

const siteField = Type.String({ minLength: 1, maxLength: 40 });
const laneField = Type.String({ minLength: 1, maxLength: 40 });

export const ThroughputFilter = Type.Object(
  { site: Type.Optional(siteField), lane: Type.Optional(laneField), kind: Type.Optional(Type.Union(laneKinds.map((k) => Type.Literal(k)))) },
  { additionalProperties: false },
);
/** `kpis`: one site's tiles, or the whole zone's without `site`. */
export const KpisFilter = Type.Object({ site: Type.Optional(siteField) }, { additionalProperties: false });
/** `lanes`: the lane grid of one site, one lane, or every lane of the zone. */
export const LanesFilter = Type.Object({ site: Type.Optional(siteField), lane: Type.Optional(laneField) }, { additionalProperties: false });

/** `alerts`: the open and recent alerts of one site, or of the zone. */
export const AlertsFilter = Type.Object({ site: Type.Optional(siteField) }, { additionalProperties: false });

/** `journeys`: the trucks moving at one site, or one truck by plate, or the whole zone. */
export const JourneysFilter = Type.Object(
  { site: Type.Optional(siteField), plate: Type.Optional(Type.String({ minLength: 5, maxLength: 16, description: 'plate as read, e.g. 14C-123.45 or 桂P·12345' })) },
  { additionalProperties: false },
);

/** `slots`: public availability of the crossing-slot windows of one site, or of every site. */
export const SlotsFilter = Type.Object({ site: Type.Optional(siteField) }, { additionalProperties: false });

/**
 * `bookings`: a firm's own bookings as their state changes. A firm's token always gets
 * its own firm (naming another is refused); operators name a firm or get all.
 */
export const BookingsFilter = Type.Object({ firm: Type.Optional(Type.String({ pattern: firmIdPattern })) }, { additionalProperties: false });

/** `conditions`: the gate's conditions per lane group (queue, expected wait, lanes open, next windows) of one site, or of every site. */
export const ConditionsFilter = Type.Object({ site: Type.Optional(siteField) }, { additionalProperties: false });

/** Every filter field of every channel; each channel's own schema says which it accepts. */
export interface LiveFilter {
  site?: string;
  lane?: string;
  kind?: (typeof laneKinds)[number];
  plate?: string;
  firm?: string;
}

/** Channels a firm's token may use: slots, its own bookings and the gate's public conditions, nothing else of the gate's operations. */
export const firmChannels: ReadonlySet<LiveChannel> = new Set(['slots', 'bookings', 'conditions']);
export type ThroughputFilter = Static<typeof ThroughputFilter>;

export const Resume = Type.Object(
  {
    stream: Type.String({ maxLength: 200, description: 'the `stream` of the snapshot the client last had' }),
    seq: Type.Integer({ minimum: 0, description: 'the last seq the client applied' }),
  },
  { additionalProperties: false },
);

const filters = { throughput: ThroughputFilter, kpis: KpisFilter, lanes: LanesFilter, alerts: AlertsFilter, journeys: JourneysFilter, slots: SlotsFilter, bookings: BookingsFilter, conditions: ConditionsFilter } satisfies Record<LiveChannel, unknown>;

function subscribeTo<C extends LiveChannel>(channel: C) {
  return Type.Object(
    { type: Type.Literal('subscribe'), id: subscriptionId, channel: Type.Literal(channel), filter: Type.Optional(filters[channel]), resume: Type.Optional(Resume) },
    { additionalProperties: false },
  );
}

const subscribeSchemas = {
  throughput: subscribeTo('throughput'),
  kpis: subscribeTo('kpis'),
  lanes: subscribeTo('lanes'),
  alerts: subscribeTo('alerts'),
  journeys: subscribeTo('journeys'),
  slots: subscribeTo('slots'),
  bookings: subscribeTo('bookings'),
  conditions: subscribeTo('conditions'),
};
export const SubscribeMessage = Type.Union(Object.values(subscribeSchemas));
export const UnsubscribeMessage = Type.Object({ type: Type.Literal('unsubscribe'), id: subscriptionId }, { additionalProperties: false });
export const ClientMessage = Type.Union([SubscribeMessage, UnsubscribeMessage]);
export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type ClientMessage = Static<typeof ClientMessage>;

const checkClientMessage = TypeCompiler.Compile(ClientMessage);
const checkSubscribeTo = Object.fromEntries(liveChannels.map((channel) => [channel, TypeCompiler.Compile(subscribeSchemas[channel])]));
const checkUnsubscribe = TypeCompiler.Compile(UnsubscribeMessage);
const isChannel = (value: unknown): value is LiveChannel => (liveChannels as readonly unknown[]).includes(value);

/** The first problem of a message that is not valid, judged by the schema of its type and channel. */
function firstProblem(parsed: unknown): string {
  const message = (parsed ?? {}) as { type?: unknown; channel?: unknown };
  if (message.type === 'unsubscribe') return pathAndReason(checkUnsubscribe.Errors(parsed).First());
  if (message.type !== 'subscribe') return "/type: must be 'subscribe' or 'unsubscribe'";
  if (!isChannel(message.channel)) return `/channel: must be one of ${liveChannels.join(', ')}`;
  return pathAndReason(checkSubscribeTo[message.channel]!.Errors(parsed).First());
}

const pathAndReason = (error: { path: string; message: string } | undefined) => (error ? `${error.path || '/'}: ${error.message}` : '/: not a valid message');

export class ProtocolError extends Error {
  constructor(
    readonly code: 'not-json' | 'invalid-message' | 'unknown-filter-value' | 'too-many-subscriptions' | 'forbidden',
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
  const id = typeof (parsed as { id?: unknown } | null)?.id === 'string' ? (parsed as { id: string }).id : undefined;
  throw new ProtocolError('invalid-message', firstProblem(parsed), id);
}

/** What the server sends. `seq` counts the deltas of one stream; a snapshot carries the seq it is current to. */
export const ThroughputSnapshotData = Type.Object({
  /** Last 60 minutes, 1-minute buckets, merged over the filter (as GET /v1/throughput). */
  history: Type.Array(Type.Object({ start: Type.Integer(), events: Type.Integer(), trucksCrossed: Type.Integer(), containersMoved: Type.Integer(), teuMoved: Type.Number(), tonnes: Type.Number() })),
  /** The newest tick of every window of the last hour matching the filter. */
  windows: Type.Array(ThroughputTick),
});
export type ThroughputSnapshotData = Static<typeof ThroughputSnapshotData>;

/** What each channel's snapshots and deltas carry. */
export interface ChannelData {
  throughput: { snapshot: ThroughputSnapshotData; delta: ThroughputTick };
  /** The whole tile set each time (as GET /v1/kpis/now): a delta replaces the previous one. */
  kpis: { snapshot: KpisNow; delta: KpisNow };
  /** A delta is one lane whose status, queue or last-hour figures changed. */
  lanes: { snapshot: { lanes: LaneNow[] }; delta: LaneNow };
  /** Open alerts and those of the last hours, newest first; a delta is one alert's new revision. */
  alerts: { snapshot: { alerts: Alert[] }; delta: Alert };
  /** Journeys with a step in the last hour, newest step first; a delta is one journey as it stands after new steps. */
  journeys: { snapshot: { journeys: JourneyView[] }; delta: JourneyUpdate };
  /** Every window from the current one to the horizon, per lane group (untouched ones at planned capacity, version 0); a delta is one window after a change. */
  slots: { snapshot: { windows: SlotAvailability[] }; delta: SlotAvailability };
  /** The firm's bookings of windows from a day ago on, by window start; a delta is one booking's new state. As the slots API shows them: times also in Vietnam time (bookingView). */
  bookings: { snapshot: { bookings: SlotBookingView[] }; delta: SlotBookingView };
  /** Every bookable lane group's conditions as of the latest KPI round (as GET /v1/conditions); a delta is one group whose figures changed. */
  conditions: { snapshot: GateConditions; delta: LaneGroupConditions };
}
export type LiveDelta = ChannelData[LiveChannel]['delta'];
export type LiveSnapshot = ChannelData[LiveChannel]['snapshot'];

export type ServerMessage =
  | { type: 'snapshot'; id: string; channel: LiveChannel; stream: string; seq: number; resync: boolean; data: LiveSnapshot }
  | { type: 'resumed'; id: string; stream: string; fromSeq: number; toSeq: number }
  | { type: 'delta'; id: string; seq: number; data: LiveDelta; conflated?: boolean }
  | { type: 'unsubscribed'; id: string }
  | { type: 'error'; id?: string; code: string; message: string };

/**
 * A delta frame from an already serialised delta: the delta is serialised once per
 * publish and shared by every subscriber; only the envelope is per subscription.
 */
export function deltaFrame(idJson: string, seq: number, deltaJson: string, conflated: boolean): string {
  return `{"type":"delta","id":${idJson},"seq":${seq},"data":${deltaJson}${conflated ? ',"conflated":true' : ''}}`;
}
