import { Counter, Gauge, type Registry } from 'prom-client';

type MessageType = 'snapshot' | 'resumed' | 'delta' | 'unsubscribed' | 'error';

export class GatewayMetrics {
  readonly connections: Gauge;
  readonly rejected: Counter<'status'>;
  readonly messages: Counter<'type'>;
  readonly conflated: Counter;
  readonly resumes: Counter<'outcome'>;
  readonly closes: Counter<'reason'>;
  readonly refused: Counter;
  readonly snapshotReads: Counter<'outcome'>;

  constructor(registers: Registry) {
    const r = [registers];
    this.connections = new Gauge({ name: 'tower_live_connections', help: 'Open WebSocket connections', registers: r });
    this.rejected = new Counter({ name: 'tower_live_upgrades_rejected_total', help: 'WebSocket upgrades refused, by HTTP status', labelNames: ['status'], registers: r });
    this.messages = new Counter({ name: 'tower_live_messages_sent_total', help: 'Messages sent to clients, by type', labelNames: ['type'], registers: r });
    this.conflated = new Counter({ name: 'tower_live_deltas_conflated_total', help: 'Deltas held back for a slow client (only the newest per window is sent)', registers: r });
    this.resumes = new Counter({ name: 'tower_live_resumes_total', help: 'Subscriptions resumed from a seq: replayed from the buffer, or resync with a fresh snapshot', labelNames: ['outcome'], registers: r });
    this.closes = new Counter({ name: 'tower_live_closes_total', help: 'Connections closed by the gateway, by reason', labelNames: ['reason'], registers: r });
    this.refused = new Counter({ name: 'tower_live_messages_refused_total', help: 'Client messages dropped for being over the socket’s message rate', registers: r });
    this.snapshotReads = new Counter({
      name: 'tower_live_snapshot_reads_total',
      help: 'Snapshot subscriptions by outcome: read (started a read), shared (took a read under way), abandoned (a read nobody waited for any more, stopped)',
      labelNames: ['outcome'],
      registers: r,
    });
  }

  private readonly sentByType = new Map<MessageType, { inc(): void }>();

  /** Counts one message sent; the labelled child is looked up once per type, not per message (fan-out). */
  sent(type: MessageType): void {
    let child = this.sentByType.get(type);
    if (!child) this.sentByType.set(type, (child = this.messages.labels(type)));
    child.inc();
  }
}
