import type { WebSocket } from 'ws';
import type { AccessRecord, ClickHouseClient, Logger, SiteCatalog } from '@tower/shared';
import { closeCodes, deltaFrame, firmChannels, parseClientMessage, ProtocolError, type ChannelData, type LiveChannel, type LiveDelta, type LiveFilter, type LiveSnapshot, type ServerMessage, type SubscribeMessage } from '../domain/protocol.ts';
import { channelRules } from '../domain/streams.ts';
import type { DeltaListener, LiveHub, Stream } from './hub.ts';
import { MessageGate, type MessageRate } from './message-gate.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Semaphore } from './semaphore.ts';
import type { SnapshotReads } from './snapshot-reads.ts';

export interface SessionSettings {
  maxSubscriptions: number;
  /** Over this many bytes queued on the socket, deltas are conflated to the newest per window. */
  softQueueBytes: number;
  /** Over this, or conflating for longer than `slowCloseMs`, the client is closed (4008). */
  hardQueueBytes: number;
  slowCloseMs: number;
  messageRate: MessageRate;
}

/**
 * Per channel, how a snapshot for a filter is read (ClickHouse and the current state).
 * `clickhouse` is the read's own client: its queries are killed when nobody waits for
 * the snapshot any more.
 */
export type SnapshotSources = { readonly [C in LiveChannel]: (filter: LiveFilter, clickhouse: ClickHouseClient) => Promise<ChannelData[C]['snapshot']> };

interface Subscription {
  /** The id as JSON, for delta frames. */
  idJson: string;
  stream: Stream;
  listener: DeltaListener;
  /** Deltas that arrived while the snapshot was being read; sent right after it. */
  queued: { seq: number; delta: LiveDelta }[] | undefined;
  /** Aborted when the subscription is replaced or dropped: its snapshot read is abandoned. */
  ended: AbortController;
}

/** Why a subscription's snapshot read is abandoned (one object: a flood of replacements allocates no stack traces). */
const subscriptionEnded = new Error('the subscription was replaced or dropped');

/**
 * One WebSocket client: its subscriptions (several share the socket, matched by id; a
 * repeated id replaces its subscription), snapshots then numbered deltas, resume from a
 * seq, and the slow-client policy: past `softQueueBytes` on the socket, deltas are
 * conflated to the newest per window and flushed when the socket drains; a client that
 * stays behind is closed with 4008. Messages are rate-limited (4029 for a client that
 * keeps going); snapshots are read through the gateway's `SnapshotReads` (shared,
 * bounded per socket, token and role), and a replaced or dropped subscription abandons
 * its read.
 */
export class LiveSession {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly conflated = new Map<string, { id: string; subscription: Subscription; seq: number; delta: LiveDelta }>();
  private behindSince: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly gate: MessageGate;
  private readonly snapshotBudget: Semaphore;

  constructor(
    private readonly socket: WebSocket,
    readonly access: AccessRecord,
    private readonly hub: LiveHub,
    private readonly catalog: SiteCatalog,
    private readonly snapshots: SnapshotSources,
    private readonly reads: SnapshotReads,
    private readonly settings: SessionSettings,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    /** Holds this socket's writes to the end of the event-loop turn (one write for a round of deltas). */
    private readonly holdWrites: () => void = () => {},
  ) {
    this.gate = new MessageGate(settings.messageRate);
    this.snapshotBudget = reads.socketBudget();
  }

  async onMessage(text: string): Promise<void> {
    if (!this.withinRate()) return;
    let message;
    try {
      message = parseClientMessage(text);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.send({ type: 'error', ...(error.subscription ? { id: error.subscription } : {}), code: error.code, message: error.message });
      return;
    }
    if (message.type === 'unsubscribe') {
      this.drop(message.id);
      this.send({ type: 'unsubscribed', id: message.id });
      return;
    }
    await this.subscribe(message);
  }

  /** Whether to handle a message: over the socket's rate it is dropped (`MessageGate`), and a client that keeps going is closed (4029). */
  private withinRate(): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    const admission = this.gate.admit();
    if (admission === 'take') return true;
    this.metrics.refused.inc();
    if (admission === 'warn') this.send({ type: 'error', code: 'rate-limited', message: this.gate.describe() });
    if (admission === 'close') {
      this.logger.info({ access: this.access.id }, 'closing a client that keeps sending over its message rate');
      this.metrics.closing(this.socket, 'message-rate');
      this.socket.close(closeCodes.messageRate, 'message rate exceeded');
    }
    return false;
  }

  private async subscribe(message: SubscribeMessage): Promise<void> {
    const forbidden = this.forbidden(message);
    if (forbidden) {
      this.send({ type: 'error', id: message.id, code: 'forbidden', message: forbidden });
      return;
    }
    // A firm's bookings stream is always its own firm's.
    const filter: LiveFilter = message.channel === 'bookings' && this.access.role === 'firm' ? { firm: this.access.firm! } : (message.filter ?? {});
    const problem = this.filterProblem(filter);
    if (problem) {
      this.send({ type: 'error', id: message.id, code: 'unknown-filter-value', message: problem });
      return;
    }
    // The same subscription again while its snapshot is on the way: that snapshot answers both.
    const current = this.subscriptions.get(message.id);
    if (current?.stream.name === this.hub.streamName(message.channel, filter) && current.queued && !message.resume) return;
    this.drop(message.id);
    if (this.subscriptions.size >= this.settings.maxSubscriptions) {
      this.send({ type: 'error', id: message.id, code: 'too-many-subscriptions', message: `at most ${this.settings.maxSubscriptions} subscriptions per connection` });
      return;
    }
    // Made only now: a refused or repeated subscribe creates no stream in the hub.
    const stream = this.hub.stream(message.channel, filter, Date.now());
    const subscription: Subscription = { idJson: JSON.stringify(message.id), stream, queued: [], ended: new AbortController(), listener: (seq, delta, frame) => this.deliver(message.id, subscription, seq, delta, frame) };
    stream.listeners.add(subscription.listener);
    this.subscriptions.set(message.id, subscription);

    const gap = message.resume?.stream === stream.name ? stream.log.since(message.resume.seq) : undefined;
    if (message.resume && gap) {
      subscription.queued = undefined;
      this.send({ type: 'resumed', id: message.id, stream: stream.name, fromSeq: message.resume.seq + 1, toSeq: stream.log.seq });
      for (const { seq, item } of gap) this.deliver(message.id, subscription, seq, item);
      this.metrics.resumes.inc({ outcome: 'replayed' });
      return;
    }
    if (message.resume) this.metrics.resumes.inc({ outcome: 'resync' });
    const started = performance.now();
    let snapshot: { position: number; value: LiveSnapshot };
    try {
      snapshot = await this.reads.read<LiveSnapshot>({
        key: stream.name,
        role: this.access.role,
        token: this.access.id,
        socket: this.snapshotBudget,
        signal: subscription.ended.signal,
        position: () => stream.log.seq,
        // A read that started earlier is current to `position`: the deltas since come from the log.
        canJoin: (position) => {
          const since = stream.log.since(position);
          if (since) subscription.queued = since.map(({ seq, item }) => ({ seq, delta: item }));
          return since !== undefined;
        },
        read: (clickhouse) => this.snapshots[message.channel](filter, clickhouse),
      });
    } catch (error) {
      if (subscription.ended.signal.aborted) return; // replaced or dropped: nobody waits for this snapshot
      this.logger.warn({ err: error, subscription: message.id, channel: message.channel }, 'snapshot could not be read');
      this.drop(message.id);
      this.send({ type: 'error', id: message.id, code: 'snapshot-unavailable', message: 'the history store did not answer; subscribe again in a few seconds' });
      return;
    }
    if (this.subscriptions.get(message.id) !== subscription) return; // replaced or dropped meanwhile
    const seq = snapshot.position;
    this.send({ type: 'snapshot', id: message.id, channel: message.channel, stream: stream.name, seq, resync: message.resume !== undefined, data: snapshot.value });
    this.metrics.snapshotSent(message.channel, this.access.role, (performance.now() - started) / 1000);
    const queued = subscription.queued ?? [];
    subscription.queued = undefined;
    for (const delta of queued) if (delta.seq > seq) this.deliver(message.id, subscription, delta.seq, delta.delta);
  }

  /** Why this token may not subscribe so (firms see slots, their own bookings and the gate's conditions only; displays no bookings). */
  private forbidden(message: SubscribeMessage): string | undefined {
    const { role, id } = this.access;
    if (role === 'firm' && !firmChannels.has(message.channel)) return `${id} is a firm's token: it may subscribe to ${[...firmChannels].join(', ')} only`;
    if (message.channel !== 'bookings') return undefined;
    if (role === 'display') return `${id} is a display token; bookings are for their firm and operators`;
    const firm = (message.filter as LiveFilter | undefined)?.firm;
    if (role === 'firm' && firm !== undefined && firm !== this.access.firm) return `the token of firm ${this.access.firm} cannot watch firm ${firm}'s bookings`;
    return undefined;
  }

  private filterProblem(filter: LiveFilter): string | undefined {
    if (filter.site !== undefined && !this.catalog.site(filter.site)) return `/filter/site: no site '${filter.site}' in the catalog`;
    if (filter.lane !== undefined) {
      const lane = this.catalog.lane(filter.lane);
      if (!lane) return `/filter/lane: no lane '${filter.lane}' in the catalog`;
      if (filter.site !== undefined && lane.site.id !== filter.site) return `/filter/lane: belongs to site ${lane.site.id}, not ${filter.site}`;
    }
    return undefined;
  }

  private deliver(id: string, subscription: Subscription, seq: number, delta: LiveDelta, frame?: (idJson: string) => Buffer): void {
    if (subscription.queued) {
      subscription.queued.push({ seq, delta });
      return;
    }
    if (this.behindSince !== undefined || this.socket.bufferedAmount > this.settings.softQueueBytes) {
      this.behindSince ??= Date.now();
      const conflationKey = channelRules[subscription.stream.channel].conflationKey as (delta: LiveDelta) => string;
      this.conflated.set(`${id}|${conflationKey(delta)}`, { id, subscription, seq, delta });
      this.metrics.conflated.inc();
      this.flushTimer ??= setInterval(() => this.flushConflated(), 100);
      return;
    }
    this.holdWrites();
    this.sendFrame(frame ? frame(subscription.idJson) : deltaFrame(subscription.idJson, seq, JSON.stringify(delta), false), 'delta');
    this.metrics.delivered(subscription.stream.channel, delta);
  }

  private flushConflated(): void {
    if (this.socket.readyState !== this.socket.OPEN) return this.stopFlushing();
    const now = Date.now();
    if (this.socket.bufferedAmount > this.settings.hardQueueBytes || (this.behindSince !== undefined && now - this.behindSince > this.settings.slowCloseMs)) {
      this.logger.info({ access: this.access.id, queuedBytes: this.socket.bufferedAmount }, 'closing a client that cannot keep up');
      this.metrics.closing(this.socket, 'too-slow');
      this.stopFlushing();
      this.socket.close(closeCodes.tooSlow, 'too slow: reconnect and resume');
      return;
    }
    // Send the held deltas oldest key first until the socket is over the soft limit
    // again; the rest wait for the next round. The client counts as behind (and the
    // close deadline runs) until nothing is held back. Not corked: the kernel takes what
    // the client reads, and only what it cannot take counts against the limit.
    for (const [key, { id, subscription, seq, delta }] of this.conflated) {
      if (this.socket.bufferedAmount > this.settings.softQueueBytes) break;
      this.conflated.delete(key);
      if (this.subscriptions.get(id) !== subscription) continue;
      this.sendFrame(deltaFrame(subscription.idJson, seq, JSON.stringify(delta), true), 'delta');
      this.metrics.delivered(subscription.stream.channel, delta);
    }
    if (this.conflated.size > 0) return;
    this.behindSince = undefined;
    this.stopFlushing();
  }

  private stopFlushing(): void {
    clearInterval(this.flushTimer);
    this.flushTimer = undefined;
  }

  private drop(id: string): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return;
    subscription.stream.listeners.delete(subscription.listener);
    subscription.stream.lastUsed = Date.now();
    this.subscriptions.delete(id);
    subscription.ended.abort(subscriptionEnded);
  }

  private send(message: ServerMessage): void {
    this.sendFrame(JSON.stringify(message), message.type);
  }

  private sendFrame(frame: string | Buffer, type: ServerMessage['type']): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(frame, { binary: false });
    this.metrics.sent(type);
  }

  /** The socket closed: stop listening everywhere. */
  close(): void {
    this.stopFlushing();
    for (const id of [...this.subscriptions.keys()]) this.drop(id);
  }
}
