import type { AccessRole, ClickHouseClient } from '@tower/shared';
import { Semaphore } from './semaphore.ts';

/** How much snapshot work the gateway does at once (WS_SNAPSHOTS_*). */
export interface SnapshotBudgets {
  /** Reads one socket has started and not finished; its further subscriptions wait their turn. */
  perSocket: number;
  /** The same over every socket of one token. */
  perToken: number;
  /** Reads running at once on this instance, per role: each role has its own pool, so no firm or display waits in front of an operator. */
  pools: Readonly<Record<AccessRole, number>>;
}

/** One subscriber's wish for a snapshot. */
export interface SnapshotRequest<T> {
  /** Requests with the same key get the same answer (the stream: channel and filter). */
  key: string;
  role: AccessRole;
  /** The token's id, for its budget. */
  token: string;
  /** The socket's budget (`socketBudget()`, one per socket). */
  socket: Semaphore;
  /** Aborts when the subscriber stops waiting: replaced, unsubscribed, socket closed. */
  signal: AbortSignal;
  /** Where the stream is now: a read that starts now is current to at least this. */
  position(): number;
  /** Whether the subscriber can take a read under way since `position` (it needs the deltas after it; false if they are gone). */
  canJoin(position: number): boolean;
  /** The read itself, with a ClickHouse client whose queries are killed when the read is abandoned. */
  read(clickhouse: ClickHouseClient): Promise<T>;
}

export interface SnapshotAnswer<T> {
  /** The stream position the snapshot is current to. */
  position: number;
  value: T;
}

interface Flight {
  /** Subscribers still waiting; at 0 the read is abandoned. */
  waiters: number;
  readonly controller: AbortController;
  /** Set when the read starts (after its wait for the pool). */
  position: number | undefined;
  settled: boolean;
  result: Promise<SnapshotAnswer<unknown>>;
}

const abandoned = new Error('nobody waits for this snapshot any more');

export type SnapshotReadOutcome = 'read' | 'shared' | 'abandoned';

/**
 * Snapshot reads, bounded and shared. Subscribers asking for the same stream while a
 * read of it is waiting or running (with the same role) share that one read. Otherwise a
 * read takes a place in the socket's budget, then the token's, then its role's pool at
 * this instance, each waited for in order (bounded: every waiter is a live
 * subscription). A read nobody waits for any more is abandoned: out of its queue, or
 * its ClickHouse queries killed (`bind`).
 */
export class SnapshotReads {
  private readonly pools: Record<AccessRole, Semaphore>;
  private readonly tokens = new Map<string, Semaphore>();
  private readonly flights = new Map<string, Flight>();

  constructor(
    private readonly budgets: SnapshotBudgets,
    /** A ClickHouse client bound to a signal (`QueryCanceller.bind`). */
    private readonly bind: (signal: AbortSignal) => ClickHouseClient,
    private readonly counted: (outcome: SnapshotReadOutcome) => void = () => {},
  ) {
    this.pools = { operator: new Semaphore(budgets.pools.operator), display: new Semaphore(budgets.pools.display), firm: new Semaphore(budgets.pools.firm) };
  }

  /** A new socket's budget. */
  socketBudget(): Semaphore {
    return new Semaphore(this.budgets.perSocket);
  }

  /** The snapshot, shared or read; rejects with the signal's reason once the subscriber stops waiting. */
  async read<T>(request: SnapshotRequest<T>): Promise<SnapshotAnswer<T>> {
    const key = `${request.role}|${request.key}`;
    const under = this.joinable(key, request);
    if (under) return this.join(key, under, request);
    const releaseSocket = await request.socket.acquire(request.signal);
    const token = this.tokens.get(request.token) ?? new Semaphore(this.budgets.perToken);
    this.tokens.set(request.token, token);
    const releaseToken = await token.acquire(request.signal).catch((error: unknown) => {
      releaseSocket();
      this.forgetIfIdle(request.token, token);
      throw error;
    });
    const release = () => {
      releaseSocket();
      releaseToken();
      this.forgetIfIdle(request.token, token);
    };
    if (request.signal.aborted) {
      release();
      throw request.signal.reason;
    }
    // Someone may have started the same read while this one waited for its budget.
    const meanwhile = this.joinable(key, request);
    if (meanwhile) {
      release();
      return this.join(key, meanwhile, request);
    }
    return this.join(key, this.start(key, request, release), request, 'read');
  }

  private joinable<T>(key: string, request: SnapshotRequest<T>): Flight | undefined {
    const flight = this.flights.get(key);
    if (!flight || flight.controller.signal.aborted) return undefined;
    if (flight.position !== undefined && !request.canJoin(flight.position)) return undefined;
    return flight;
  }

  /** Starts a read in the role's pool; `release` frees the budgets it holds once it ends. */
  private start<T>(key: string, request: SnapshotRequest<T>, release: () => void): Flight {
    const controller = new AbortController();
    const flight: Flight = { waiters: 0, controller, position: undefined, settled: false, result: Promise.resolve({ position: 0, value: undefined }) };
    flight.result = this.pools[request.role]
      .run(controller.signal, async () => {
        const position = request.position();
        flight.position = position;
        return { position, value: await request.read(this.bind(controller.signal)) };
      })
      .finally(() => {
        flight.settled = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        release();
      });
    // Waiters handle the outcome; an abandoned read's rejection is expected.
    flight.result.catch(() => {});
    this.flights.set(key, flight);
    return flight;
  }

  private join<T>(key: string, flight: Flight, request: SnapshotRequest<T>, outcome: SnapshotReadOutcome = 'shared'): Promise<SnapshotAnswer<T>> {
    this.counted(outcome);
    flight.waiters += 1;
    return new Promise((resolve, reject) => {
      const leave = () => {
        flight.waiters -= 1;
        if (flight.waiters === 0 && !flight.settled) {
          if (this.flights.get(key) === flight) this.flights.delete(key);
          this.counted('abandoned');
          flight.controller.abort(abandoned);
        }
        reject(request.signal.reason);
      };
      if (request.signal.aborted) return leave();
      request.signal.addEventListener('abort', leave, { once: true });
      flight.result.then(
        (answer) => {
          request.signal.removeEventListener('abort', leave);
          resolve(answer as SnapshotAnswer<T>);
        },
        (error: unknown) => {
          request.signal.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }

  private forgetIfIdle(id: string, budget: Semaphore): void {
    if (budget.idle && this.tokens.get(id) === budget) this.tokens.delete(id);
  }
}
