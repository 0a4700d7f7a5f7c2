import type { ThroughputTick } from '@tower/shared';
import { deltaFrame, type ThroughputFilter } from '../domain/protocol.ts';
import { StreamLog, ThroughputBoard, filterKey, tickMatches } from '../domain/streams.ts';

/**
 * A delta as it reaches each listener. `frame(idJson)` is the encoded delta frame for a
 * subscription id, built once per publish and id and shared by every socket that uses
 * the same id (a wall of displays all subscribe as "zone"): fan-out to thousands of
 * sockets costs one serialisation, not one per socket.
 */
export type DeltaListener = (seq: number, tick: ThroughputTick, frame: (idJson: string) => Buffer) => void;

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
      if (stream.listeners.size === 0) continue;
      tickJson ??= JSON.stringify(tick);
      const frames = new Map<string, Buffer>();
      const frame = (idJson: string) => {
        let encoded = frames.get(idJson);
        if (!encoded) frames.set(idJson, (encoded = Buffer.from(deltaFrame(idJson, seq, tickJson!, false))));
        return encoded;
      };
      for (const listener of stream.listeners) listener(seq, tick, frame);
      if (stream.listeners.size > 0) stream.lastUsed = now;
    }
  }

  /** Drops streams nobody has listened to for `idleStreamMs`. */
  prune(now: number): void {
    for (const [name, stream] of this.streams) if (stream.listeners.size === 0 && now - stream.lastUsed > this.settings.idleStreamMs) this.streams.delete(name);
  }
}
