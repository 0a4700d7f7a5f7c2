import type { Duplex } from 'node:stream';

/**
 * Frames written to a socket in one turn of the event loop leave in one system call.
 * A fan-out round (one Kafka batch of ticks, delivered synchronously to every socket)
 * corks each socket it writes to; the sockets are uncorked together once the turn is
 * over (`setImmediate`), so a client that gets twenty ticks from one round costs one
 * `writev`, not twenty. Nothing waits for a timer: when ticks come one at a time, each
 * leaves as soon as the turn that delivered it ends. Under load the effect grows by
 * itself: a gateway that falls behind fetches bigger Kafka batches.
 */
export class WriteBatcher {
  private readonly corked = new Set<Duplex>();
  private releaseScheduled = false;

  /** Holds the socket's writes until the end of this turn. */
  hold(socket: Duplex): void {
    if (this.corked.has(socket)) return;
    socket.cork();
    this.corked.add(socket);
    if (!this.releaseScheduled) {
      this.releaseScheduled = true;
      setImmediate(() => this.release());
    }
  }

  private release(): void {
    this.releaseScheduled = false;
    const sockets = [...this.corked];
    this.corked.clear();
    for (const socket of sockets) socket.uncork();
  }
}
