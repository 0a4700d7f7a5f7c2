import type { ThroughputTick } from '@tower/shared';
import { deltaFrame, type ChannelData, type LiveChannel, type LiveDelta, type LiveFilter } from '../domain/protocol.ts';
import { StreamLog, ThroughputBoard, channelRules, streamKey } from '../domain/streams.ts';

/**
 * A delta as it reaches each listener. `frame(idJson)` is the encoded delta frame for a
 * subscription id, built once per publish and id and shared by every socket that uses
 * the same id (a wall of displays all subscribe as "zone"): fan-out to thousands of
 * sockets costs one serialisation, not one per socket.
 */
export type DeltaListener = (seq: number, delta: LiveDelta, frame: (idJson: string) => Buffer) => void;

/** A channel with one filter: its numbered deltas and who listens. */
export class Stream {
  readonly log: StreamLog<LiveDelta>;
  readonly listeners = new Set<DeltaListener>();
  lastUsed: number;

  constructor(
    readonly name: string,
    readonly channel: LiveChannel,
    readonly filter: LiveFilter,
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
 * The gateway's live state: the board of current throughput windows and one stream per
 * channel and distinct filter. Every delta goes into each stream of its channel it
 * matches, which numbers it and hands it to that stream's listeners. `epoch` (this
 * instance) is part of every stream's name, so a resume against another instance or
 * after a restart is recognised and answered with a fresh snapshot.
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

  /** The name of the stream of a channel and filter (the stream itself is made only by `stream`). */
  streamName(channel: LiveChannel, filter: LiveFilter): string {
    return `${this.epoch}/${streamKey(channel, filter)}`;
  }

  stream(channel: LiveChannel, filter: LiveFilter, now: number): Stream {
    const name = this.streamName(channel, filter);
    let stream = this.streams.get(name);
    if (!stream) {
      stream = new Stream(name, channel, filter, this.settings.resumeBufferDeltas, now);
      this.streams.set(name, stream);
    }
    stream.lastUsed = now;
    return stream;
  }

  /** Whether anyone listens on the channel (publishers skip work nobody would see). */
  hasListeners(channel: LiveChannel): boolean {
    for (const stream of this.streams.values()) if (stream.channel === channel && stream.listeners.size > 0) return true;
    return false;
  }

  /** A throughput tick from Kafka: onto the board for snapshots, then to its streams (unless the board refused it: older than the provisional figures shown). */
  publishTick(tick: ThroughputTick, now: number): void {
    if (!this.board.put(tick, now)) return;
    this.publish('throughput', tick, now);
  }

  publish<C extends LiveChannel>(channel: C, delta: ChannelData[C]['delta'], now: number): void {
    const matches = channelRules[channel].matches as (delta: ChannelData[C]['delta'], filter: LiveFilter) => boolean;
    let deltaJson: string | undefined;
    for (const stream of this.streams.values()) {
      if (stream.channel !== channel || !matches(delta, stream.filter)) continue;
      const seq = stream.log.append(delta);
      if (stream.listeners.size === 0) continue;
      deltaJson ??= JSON.stringify(delta);
      const frames = new Map<string, Buffer>();
      const frame = (idJson: string) => {
        let encoded = frames.get(idJson);
        if (!encoded) frames.set(idJson, (encoded = Buffer.from(deltaFrame(idJson, seq, deltaJson!, false))));
        return encoded;
      };
      for (const listener of stream.listeners) listener(seq, delta, frame);
      if (stream.listeners.size > 0) stream.lastUsed = now;
    }
  }

  /** Drops streams nobody has listened to for `idleStreamMs`. */
  prune(now: number): void {
    for (const [name, stream] of this.streams) if (stream.listeners.size === 0 && now - stream.lastUsed > this.settings.idleStreamMs) this.streams.delete(name);
  }
}
