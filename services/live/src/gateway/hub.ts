import type { ThroughputTick } from '@tower/shared';
import type { ThroughputFilter } from '../domain/protocol.ts';
import { StreamLog, ThroughputBoard, filterKey, tickMatches } from '../domain/streams.ts';

/** `tickJson` is the tick serialised once for every listener (fan-out to thousands of sockets). */
export type DeltaListener = (seq: number, tick: ThroughputTick, tickJson: string) => void;

/** A channel with one filter: its numbered deltas and who listens. */
export class Stream {
  readonly log: StreamLog<ThroughputTick>;
  readonly listeners = new Set<DeltaListener>();
  lastUsed: number;

  constructor(
    readonly name: string,
    readonly filter: ThroughputFilter,
    bufferDeltas: number,
    now: number,
  ) {
    this.log = new StreamLog(bufferDeltas);
    this.lastUsed = now;
  }
}

export interface HubSettings {
  /** Deltas kept per stream for clients that reconnect. */
  resumeBufferDeltas: number;
  /** How long a stream nobody listens to is kept (so a reconnecting client can resume). */
  idleStreamMs: number;
  /** Windows kept on the board for snapshots. */
  boardHorizonMs: number;
}

/**
 * The gateway's live state: the board of current windows and one stream per distinct
 * filter. Every tick from Kafka goes on the board and into each stream it matches,
 * which numbers it and hands it to that stream's listeners. `epoch` (this instance)
 * is part of every stream's name, so a resume against another instance or after a
 * restart is recognised and answered with a fresh snapshot.
 */
export class LiveHub {
  readonly board: ThroughputBoard;
  private readonly streams = new Map<string, Stream>();

  constructor(
    readonly epoch: string,
    private readonly settings: HubSettings,
  ) {
    this.board = new ThroughputBoard(settings.boardHorizonMs);
  }

  stream(filter: ThroughputFilter, now: number): Stream {
    const name = `${this.epoch}/throughput?${filterKey(filter)}`;
    let stream = this.streams.get(name);
    if (!stream) {
      stream = new Stream(name, filter, this.settings.resumeBufferDeltas, now);
      this.streams.set(name, stream);
    }
    stream.lastUsed = now;
    return stream;
  }

  publish(tick: ThroughputTick, now: number): void {
    this.board.put(tick, now);
    let tickJson: string | undefined;
    for (const stream of this.streams.values()) {
      if (!tickMatches(tick, stream.filter)) continue;
      const seq = stream.log.append(tick);
      if (stream.listeners.size > 0) tickJson ??= JSON.stringify(tick);
      for (const listener of stream.listeners) listener(seq, tick, tickJson!);
      if (stream.listeners.size > 0) stream.lastUsed = now;
    }
  }

  /** Drops streams nobody has listened to for `idleStreamMs`. */
  prune(now: number): void {
    for (const [name, stream] of this.streams) if (stream.listeners.size === 0 && now - stream.lastUsed > this.settings.idleStreamMs) this.streams.delete(name);
  }

  get streamCount(): number {
    return this.streams.size;
  }
}
