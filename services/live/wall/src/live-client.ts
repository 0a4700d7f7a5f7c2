import type { LiveChannel, LiveFilter, ServerMessage } from '../../src/domain/protocol.ts';

export type ConnectionState = 'connecting' | 'live' | 'lost';

/** What the wall wants to see: subscriptions survive reconnects. */
export interface Subscription {
  id: string;
  channel: LiveChannel;
  filter: LiveFilter;
  onSnapshot(data: unknown): void;
  onDelta(data: unknown): void;
}

/** The part of the browser's WebSocket the client uses (a fake in unit tests). */
export type SocketLike = Pick<WebSocket, 'readyState' | 'send' | 'close' | 'onopen' | 'onclose' | 'onmessage'>;

export interface LiveClientOptions {
  openSocket(): SocketLike;
  onState(state: ConnectionState, detail: { attempt: number; lastCode?: number }): void;
  /** Reconnect delays: doubling from `minDelayMs` up to `maxDelayMs`, with jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  setTimer?: (run: () => void, ms: number) => unknown;
  random?: () => number;
}

interface Position {
  stream: string;
  seq: number;
}

const open = 1;

/**
 * The wall's end of docs/live-protocol.md: one socket, many subscriptions matched by id,
 * and a wall that never needs a person. When the socket drops (gateway restart, network,
 * 4008 for a slow client) it reconnects with backoff and subscribes again, resuming each
 * stream from the last seq it applied; a gap in the seqs asks for a fresh snapshot.
 */
export class LiveClient {
  private socket: SocketLike | undefined;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly positions = new Map<string, Position>();
  private attempt = 0;
  private stopped = false;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: LiveClientOptions) {
    this.minDelayMs = options.minDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close(1000, 'wall closed');
  }

  /** Adds or replaces (same id) a subscription; a new one starts from a snapshot. */
  subscribe(subscription: Subscription): void {
    this.subscriptions.set(subscription.id, subscription);
    this.positions.delete(subscription.id);
    this.sendSubscribe(subscription);
  }

  unsubscribe(id: string): void {
    this.subscriptions.delete(id);
    this.positions.delete(id);
    if (this.socket?.readyState === open) this.socket.send(JSON.stringify({ type: 'unsubscribe', id }));
  }

  private connect(): void {
    this.options.onState('connecting', { attempt: this.attempt });
    const socket = this.options.openSocket();
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.options.onState('live', { attempt: 0 });
      for (const subscription of this.subscriptions.values()) this.sendSubscribe(subscription);
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      this.attempt += 1;
      this.options.onState('lost', { attempt: this.attempt, lastCode: event.code });
      const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (this.attempt - 1));
      const delay = base * (0.75 + 0.5 * (this.options.random ?? Math.random)());
      (this.options.setTimer ?? setTimeout)(() => this.connect(), delay);
    };
  }

  private sendSubscribe(subscription: Subscription): void {
    if (this.socket?.readyState !== open) return;
    const position = this.positions.get(subscription.id);
    this.socket.send(JSON.stringify({ type: 'subscribe', id: subscription.id, channel: subscription.channel, filter: subscription.filter, ...(position ? { resume: position } : {}) }));
  }

  private receive(text: string): void {
    const message = JSON.parse(text) as ServerMessage;
    if (message.type === 'error') {
      // The history store did not answer a snapshot: ask again shortly (other errors are bugs of the wall).
      const failed = message.id === undefined ? undefined : this.subscriptions.get(message.id);
      if (failed && message.code === 'snapshot-unavailable') (this.options.setTimer ?? setTimeout)(() => this.subscriptions.get(failed.id) === failed && this.sendSubscribe(failed), 3000);
      return;
    }
    if (message.type === 'unsubscribed') return;
    const subscription = this.subscriptions.get(message.id);
    if (!subscription) return;
    switch (message.type) {
      case 'snapshot':
        this.positions.set(message.id, { stream: message.stream, seq: message.seq });
        subscription.onSnapshot(message.data);
        return;
      case 'resumed':
        return;
      case 'delta': {
        const position = this.positions.get(message.id);
        if (!position) return; // a delta of a subscription being replaced
        if (message.seq <= position.seq) return; // already applied
        if (message.seq !== position.seq + 1) {
          // A gap: what was missed is unknown, so start again from a snapshot.
          this.subscribe(subscription);
          return;
        }
        position.seq = message.seq;
        subscription.onDelta(message.data);
      }
    }
  }
}
