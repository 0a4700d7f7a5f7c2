import { describe, expect, it } from 'vitest';
import type { AccessRole, ClickHouseClient } from '@tower/shared';
import { Semaphore } from './semaphore.ts';
import { SnapshotReads, type SnapshotBudgets, type SnapshotReadOutcome, type SnapshotRequest } from './snapshot-reads.ts';

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** Reads that end when the test says, each with the signal its ClickHouse client was bound to. */
function harness(budgets: Partial<SnapshotBudgets> = {}) {
  const signals: AbortSignal[] = [];
  const outcomes: SnapshotReadOutcome[] = [];
  const reads = new SnapshotReads(
    { perSocket: 10, perToken: 10, pools: { operator: 10, display: 10, firm: 10 }, ...budgets },
    (signal) => {
      signals.push(signal);
      return {} as ClickHouseClient; // the read functions below never query
    },
    (outcome) => outcomes.push(outcome),
  );
  const started: { key: string; finish: (value: string) => void; fail: (error: Error) => void; signal: AbortSignal }[] = [];
  let position = 0;
  const request = (key: string, options: { role?: AccessRole; token?: string; socket?: Semaphore; canJoin?: (position: number) => boolean } = {}) => {
    const ended = new AbortController();
    const wish: SnapshotRequest<string> = {
      key,
      role: options.role ?? 'operator',
      token: options.token ?? 'operator-1',
      socket: options.socket ?? reads.socketBudget(),
      signal: ended.signal,
      position: () => position,
      canJoin: options.canJoin ?? (() => true),
      read: () =>
        new Promise<string>((finish, fail) => {
          started.push({ key, finish, fail, signal: signals.at(-1)! });
        }),
    };
    const answer = reads.read(wish);
    const outcome = answer.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    return { outcome, end: (reason = new Error('replaced')) => ended.abort(reason) };
  };
  return { reads, request, started, outcomes, setPosition: (p: number) => void (position = p) };
}

describe('SnapshotReads: shared reads', () => {
  it('subscribers asking for the same stream while it is read share one read, answered with its position', async () => {
    const { request, started, outcomes, setPosition } = harness();
    setPosition(7);
    const a = request('throughput?site=bl2');
    const b = request('throughput?site=bl2');
    await settled();
    setPosition(9); // deltas after the read started: a late joiner must be able to take them (canJoin)
    const c = request('throughput?site=bl2');
    await settled();
    expect(started).toHaveLength(1);
    started[0]!.finish('snapshot');
    for (const subscriber of [a, b, c]) expect(await subscriber.outcome).toEqual({ value: { position: 7, value: 'snapshot' } });
    expect(outcomes).toEqual(['read', 'shared', 'shared']);
  });

  it('a read under way is not taken by a subscriber that cannot get the deltas since its position', async () => {
    const { request, started } = harness();
    request('lanes');
    await settled();
    const seen: number[] = [];
    request('lanes', {
      canJoin: (position) => {
        seen.push(position);
        return false;
      },
    });
    await settled();
    expect(seen.length).toBeGreaterThan(0);
    expect(started).toHaveLength(2);
  });

  it('roles never share a read: an operator does not wait on a read in the firms’ pool', async () => {
    const { request, started } = harness();
    request('slots', { role: 'firm', token: 'haiha-1' });
    request('slots', { role: 'operator' });
    await settled();
    expect(started).toHaveLength(2);
  });

  it('a read goes on while someone waits for it, and is abandoned (its ClickHouse signal aborted) when the last one leaves', async () => {
    const { request, started, outcomes } = harness();
    const a = request('slots');
    const b = request('slots');
    await settled();
    const reason = new Error('replaced');
    a.end(reason);
    expect(await a.outcome).toEqual({ error: reason });
    expect(started[0]!.signal.aborted).toBe(false);
    b.end();
    await b.outcome;
    expect(started[0]!.signal.aborted).toBe(true);
    expect(outcomes).toEqual(['read', 'shared', 'abandoned']);
    // The next subscriber starts a fresh read rather than joining the abandoned one.
    request('slots');
    await settled();
    expect(started).toHaveLength(2);
  });

  it('a failed read fails every waiter, and the next subscriber reads again', async () => {
    const { request, started } = harness();
    const a = request('journeys');
    const b = request('journeys');
    await settled();
    started[0]!.fail(new Error('ClickHouse timed out'));
    expect(await a.outcome).toEqual({ error: new Error('ClickHouse timed out') });
    expect(await b.outcome).toEqual({ error: new Error('ClickHouse timed out') });
    request('journeys');
    await settled();
    expect(started).toHaveLength(2);
  });
});

describe('SnapshotReads: budgets', () => {
  it('per socket: reads over the budget wait their turn; one that leaves the queue takes no place', async () => {
    const { reads, request, started } = harness({ perSocket: 1 });
    const socket = reads.socketBudget();
    request('throughput', { socket });
    const left = request('kpis', { socket });
    request('lanes', { socket });
    await settled();
    expect(started.map((s) => s.key)).toEqual(['throughput']);
    left.end();
    started[0]!.finish('done');
    await settled();
    expect(started.map((s) => s.key)).toEqual(['throughput', 'lanes']);
  });

  it('per token, over all its sockets; another token of the same role is not held up', async () => {
    const { request, started } = harness({ perToken: 2 });
    request('a', { token: 'wall-1' });
    request('b', { token: 'wall-1' });
    request('c', { token: 'wall-1' });
    request('d', { token: 'wall-2' });
    await settled();
    expect(started.map((s) => s.key)).toEqual(['a', 'b', 'd']);
    started[0]!.finish('done');
    await settled();
    expect(started.map((s) => s.key)).toEqual(['a', 'b', 'd', 'c']);
  });

  it('per role at the instance: firms filling their pool leave the operators’ pool free', async () => {
    const { request, started } = harness({ pools: { operator: 1, display: 1, firm: 1 } });
    request('slots?site=a', { role: 'firm', token: 'haiha-1' });
    request('slots?site=b', { role: 'firm', token: 'donghung-1' });
    request('throughput', { role: 'display', token: 'wall-1' });
    request('slots?site=a', { role: 'operator' });
    await settled();
    expect(started.map((s) => s.key)).toEqual(['slots?site=a', 'throughput', 'slots?site=a']);
    started[0]!.finish('done');
    await settled();
    expect(started.map((s) => s.key)).toEqual(['slots?site=a', 'throughput', 'slots?site=a', 'slots?site=b']);
  });

  it('a read abandoned while waiting for its pool never starts, and frees its socket’s budget', async () => {
    const { reads, request, started } = harness({ perSocket: 1, pools: { operator: 1, display: 1, firm: 1 } });
    request('x', { role: 'firm', token: 'haiha-1' });
    const socket = reads.socketBudget();
    const queued = request('y', { role: 'firm', token: 'donghung-1', socket });
    await settled();
    queued.end();
    await queued.outcome;
    request('z', { role: 'firm', token: 'donghung-1', socket });
    started[0]!.finish('done');
    await settled();
    expect(started.map((s) => s.key)).toEqual(['x', 'z']);
  });
});
