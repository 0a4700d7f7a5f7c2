import type { AccessRole, ThroughputTick } from '@tower/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LiveChannel, LiveDelta } from '../domain/protocol.ts';
import { onlyConfirms } from '../domain/streams.ts';

type MessageType = 'snapshot' | 'resumed' | 'delta' | 'unsubscribed' | 'error';

/**
 * Why the gateway ends a connection; each reason is a close code (domain/protocol.ts
 * closeCodes): too-slow 4008, message-rate 4029, protocol-error 4002 (a binary frame),
 * shutdown 1001; bad-frame is the WebSocket library's 1002, 1007 or 1009 (a malformed
 * frame, invalid UTF-8, over WS_MAX_PAYLOAD_BYTES); unresponsive is terminated without a
 * close frame (the client sees 1006).
 */
export type GatewayCloseReason = 'too-slow' | 'message-rate' | 'protocol-error' | 'bad-frame' | 'shutdown' | 'unresponsive';

/** A socket as the metrics see it: what it has queued for the client. */
interface QueuedSocket {
  readonly bufferedAmount: number;
}

/** The close code of a connection the client ended: 1006 when it ended without a close frame. */
const abnormalClosure = 1006;

export class GatewayMetrics {
  readonly connections: Gauge<'role'>;
  readonly rejected: Counter<'status'>;
  readonly messages: Counter<'type'>;
  readonly conflated: Counter;
  readonly resumes: Counter<'outcome'>;
  private readonly closes: Counter<'reason'>;
  /** Sockets the gateway closed: their close event is not counted again as the client's. */
  private readonly closedByGateway = new WeakSet<QueuedSocket>();
  /** The open sockets, for the queued bytes read at scrape (attachGateway sets it). */
  private sockets: () => Iterable<QueuedSocket> = () => [];
  readonly refused: Counter;
  readonly snapshotReads: Counter<'outcome'>;
  readonly freshness: Histogram;
  readonly snapshotDuration: Histogram<'channel' | 'role'>;

  constructor(registers: Registry) {
    const r = [registers];
    this.connections = new Gauge({ name: 'tower_live_connections', help: 'Open WebSocket connections, by the role of their token', labelNames: ['role'], registers: r });
    const queued = () => [...this.sockets()].map((socket) => socket.bufferedAmount);
    new Gauge({
      name: 'tower_live_queued_bytes',
      help: 'Bytes written to the sockets and not yet taken by the clients (sum of bufferedAmount over the open sockets), read at scrape',
      registers: r,
      collect() {
        this.set(queued().reduce((sum, bytes) => sum + bytes, 0));
      },
    });
    new Gauge({
      name: 'tower_live_socket_queued_max_bytes',
      help: 'The most bytes one socket has queued for its client (the slowest client), read at scrape',
      registers: r,
      collect() {
        this.set(Math.max(0, ...queued()));
      },
    });
    this.rejected = new Counter({ name: 'tower_live_upgrades_rejected_total', help: 'WebSocket upgrades refused, by HTTP status', labelNames: ['status'], registers: r });
    this.messages = new Counter({ name: 'tower_live_messages_sent_total', help: 'Messages sent to clients, by type', labelNames: ['type'], registers: r });
    this.conflated = new Counter({ name: 'tower_live_deltas_conflated_total', help: 'Deltas held back for a slow client (only the newest per window is sent)', registers: r });
    this.resumes = new Counter({ name: 'tower_live_resumes_total', help: 'Subscriptions resumed from a seq: replayed from the buffer, or resync with a fresh snapshot', labelNames: ['outcome'], registers: r });
    this.closes = new Counter({
      name: 'tower_live_closes_total',
      help: 'Connections closed, by reason: the gateway (too-slow, message-rate, protocol-error, bad-frame, shutdown, unresponsive) or the client (client-closed with a close frame, connection-lost without)',
      labelNames: ['reason'],
      registers: r,
    });
    this.refused = new Counter({ name: 'tower_live_messages_refused_total', help: 'Client messages dropped for being over the socket’s message rate', registers: r });
    this.snapshotReads = new Counter({
      name: 'tower_live_snapshot_reads_total',
      help: 'Snapshot subscriptions by outcome: read (started a read), shared (took a read under way), abandoned (a read nobody waited for any more, stopped)',
      labelNames: ['outcome'],
      registers: r,
    });
    this.freshness = new Histogram({
      name: 'tower_live_tick_freshness_seconds',
      help: 'Now minus newestIngestedAt of each throughput tick of new data sent to a client (not a window made final or corrected): the end-to-end age an operator sees',
      buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers: r,
    });
    this.snapshotDuration = new Histogram({
      name: 'tower_live_snapshot_duration_seconds',
      help: 'Time from a subscribe to its snapshot sent (the budgets waited for, then the ClickHouse read or a share of one under way), by channel and role',
      labelNames: ['channel', 'role'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
  }

  /** Where the queued-bytes gauges read the open sockets from. */
  watchQueues(sockets: () => Iterable<QueuedSocket>): void {
    this.sockets = sockets;
  }

  /** The gateway is closing `socket` (or terminating it) for `reason`; a socket is counted once, for the first reason (a socket error after a too-slow close is not a bad frame too). */
  closing(socket: QueuedSocket, reason: GatewayCloseReason): void {
    if (this.closedByGateway.has(socket)) return;
    this.closedByGateway.add(socket);
    this.closes.inc({ reason });
  }

  /** `socket` closed with `code`: counted here when the client ended it. */
  closed(socket: QueuedSocket, code: number): void {
    if (!this.closedByGateway.has(socket)) this.closes.inc({ reason: code === abnormalClosure ? 'connection-lost' : 'client-closed' });
  }

  /** A delta sent to a client: a throughput tick of new data counts its end-to-end age (a provisional tick is new data; the confirmed tick of the same events is not). */
  delivered(channel: LiveChannel, delta: LiveDelta): void {
    if (channel !== 'throughput') return;
    const tick = delta as ThroughputTick;
    if (!tick.final && !tick.correction && !onlyConfirms(tick)) this.freshness.observe((Date.now() - tick.newestIngestedAt) / 1000);
  }

  /** A snapshot sent `seconds` after its subscribe arrived. */
  snapshotSent(channel: LiveChannel, role: AccessRole, seconds: number): void {
    this.snapshotDuration.observe({ channel, role }, seconds);
  }

  private readonly sentByType = new Map<MessageType, { inc(): void }>();

  /** Counts one message sent; the labelled child is looked up once per type, not per message (fan-out). */
  sent(type: MessageType): void {
    let child = this.sentByType.get(type);
    if (!child) this.sentByType.set(type, (child = this.messages.labels(type)));
    child.inc();
  }
}
