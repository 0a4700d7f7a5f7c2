import type { WebSocket } from 'ws';
import type { AccessRecord, Logger, SiteCatalog, ThroughputTick } from '@tower/shared';
import { closeCodes, deltaFrame, parseClientMessage, ProtocolError, type ServerMessage, type SubscribeMessage, type ThroughputFilter, type ThroughputSnapshotData } from '../domain/protocol.ts';
import { tickKey } from '../domain/streams.ts';
import type { DeltaListener, LiveHub, Stream } from './hub.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface SessionSettings {
  maxSubscriptions: number;
  /** Over this many bytes queued on the socket, deltas are conflated to the newest per window. */
  softQueueBytes: number;
  /** Over this, or conflating for longer than `slowCloseMs`, the client is closed (4008). */
  hardQueueBytes: number;
  slowCloseMs: number;
}

/** Reads the snapshot's history part (ClickHouse), so the session stays testable. */
export type SnapshotHistory = (filter: ThroughputFilter) => Promise<ThroughputSnapshotData['history']>;

interface Subscription {
  /** The id as JSON, for delta frames. */
  idJson: string;
  stream: Stream;
  listener: DeltaListener;
  /** Deltas that arrived while the snapshot was being read; sent right after it. */
  queued: { seq: number; tick: ThroughputTick }[] | undefined;
}

/**
 * One WebSocket client: its subscriptions (several share the socket, matched by id; a
 * repeated id replaces its subscription), snapshots then numbered deltas, resume from a
 * seq, and the slow-client policy: past `softQueueBytes` on the socket, deltas are
 * conflated to the newest per window and flushed when the socket drains; a client that
 * stays behind is closed with 4008.
 */
export class LiveSession {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly conflated = new Map<string, { id: string; subscription: Subscription; seq: number; tick: ThroughputTick }>();
  private behindSince: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly access: AccessRecord,
    private readonly hub: LiveHub,
    private readonly catalog: SiteCatalog,
    private readonly history: SnapshotHistory,
    private readonly settings: SessionSettings,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {}

  async onMessage(text: string): Promise<void> {
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

  private async subscribe(message: SubscribeMessage): Promise<void> {
    const filter = message.filter ?? {};
    const problem = this.filterProblem(filter);
    if (problem) {
      this.send({ type: 'error', id: message.id, code: 'unknown-filter-value', message: problem });
      return;
    }
    this.drop(message.id);
    if (this.subscriptions.size >= this.settings.maxSubscriptions) {
      this.send({ type: 'error', id: message.id, code: 'too-many-subscriptions', message: `at most ${this.settings.maxSubscriptions} subscriptions per connection` });
      return;
    }
    const stream = this.hub.stream(filter, Date.now());
    const subscription: Subscription = { idJson: JSON.stringify(message.id), stream, queued: [], listener: (seq, tick, frame) => this.deliver(message.id, subscription, seq, tick, frame) };
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
    const seq = stream.log.seq;
    let history: ThroughputSnapshotData['history'];
    try {
      history = await this.history(filter);
    } catch (error) {
      this.logger.warn({ err: error, subscription: message.id }, 'snapshot history could not be read');
      this.drop(message.id);
      this.send({ type: 'error', id: message.id, code: 'snapshot-unavailable', message: 'the history store did not answer; subscribe again in a few seconds' });
      return;
    }
    if (this.subscriptions.get(message.id) !== subscription) return; // replaced or dropped meanwhile
    const windows = this.hub.board.matching(filter, Date.now());
    this.send({ type: 'snapshot', id: message.id, channel: 'throughput', stream: stream.name, seq, resync: message.resume !== undefined, data: { history, windows } });
    const queued = subscription.queued ?? [];
    subscription.queued = undefined;
    for (const delta of queued) if (delta.seq > seq) this.deliver(message.id, subscription, delta.seq, delta.tick);
  }

  private filterProblem(filter: ThroughputFilter): string | undefined {
    if (filter.site !== undefined && !this.catalog.site(filter.site)) return `/filter/site: no site '${filter.site}' in the catalog`;
    if (filter.lane !== undefined) {
      const lane = this.catalog.lane(filter.lane);
      if (!lane) return `/filter/lane: no lane '${filter.lane}' in the catalog`;
      if (filter.site !== undefined && lane.site.id !== filter.site) return `/filter/lane: belongs to site ${lane.site.id}, not ${filter.site}`;
    }
    return undefined;
  }

  private deliver(id: string, subscription: Subscription, seq: number, tick: ThroughputTick, frame?: (idJson: string) => Buffer): void {
    if (subscription.queued) {
      subscription.queued.push({ seq, tick });
      return;
    }
    if (this.behindSince !== undefined || this.socket.bufferedAmount > this.settings.softQueueBytes) {
      this.behindSince ??= Date.now();
      this.conflated.set(`${id}|${tickKey(tick)}`, { id, subscription, seq, tick });
      this.metrics.conflated.inc();
      this.flushTimer ??= setInterval(() => this.flushConflated(), 100);
      return;
    }
    this.sendFrame(frame ? frame(subscription.idJson) : deltaFrame(subscription.idJson, seq, JSON.stringify(tick), false), 'delta');
  }

  private flushConflated(): void {
    if (this.socket.readyState !== this.socket.OPEN) return this.stopFlushing();
    const now = Date.now();
    if (this.socket.bufferedAmount > this.settings.hardQueueBytes || (this.behindSince !== undefined && now - this.behindSince > this.settings.slowCloseMs)) {
      this.logger.info({ access: this.access.id, queuedBytes: this.socket.bufferedAmount }, 'closing a client that cannot keep up');
      this.metrics.closes.inc({ reason: 'too-slow' });
      this.stopFlushing();
      this.socket.close(closeCodes.tooSlow, 'too slow: reconnect and resume');
      return;
    }
    if (this.socket.bufferedAmount > this.settings.softQueueBytes) return;
    const pending = [...this.conflated.values()];
    this.conflated.clear();
    this.behindSince = undefined;
    this.stopFlushing();
    for (const { id, subscription, seq, tick } of pending) {
      if (this.subscriptions.get(id) === subscription) this.sendFrame(deltaFrame(subscription.idJson, seq, JSON.stringify(tick), true), 'delta');
    }
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
