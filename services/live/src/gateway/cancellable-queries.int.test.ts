import { describe, expect } from 'vitest';
import { selectRows, sql, type ClickHouseClient } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { QueryCanceller } from './cancellable-queries.ts';
import { SnapshotReads } from './snapshot-reads.ts';

/** Minutes of work on 2 cores: only a kill ends it in a test's time. */
const slowQuery = sql`SELECT count() AS n FROM numbers(1000000000000) WHERE sipHash64(number) % 7 = 3`;

const running = async (client: ClickHouseClient, prefix: string) =>
  (await selectRows<{ query_id: string }>(client, sql`SELECT query_id FROM system.processes WHERE startsWith(query_id, ${prefix})`)).map((row) => row.query_id);

/** How long the queries of `prefix` have run, in s (none: empty). */
const elapsed = async (client: ClickHouseClient, prefix: string) =>
  (await selectRows<{ elapsed: number }>(client, sql`SELECT elapsed FROM system.processes WHERE startsWith(query_id, ${prefix})`)).map((row) => row.elapsed);

const killAll = (client: ClickHouseClient, prefix: string) => client.command({ query: sql`KILL QUERY WHERE startsWith(query_id, ${prefix}) ASYNC`.text });

describe('abandoned snapshot reads stop on ClickHouse (18.16 goes on after the client has gone)', () => {
  test('a bound query is killed when its signal aborts: out of system.processes, and the bound client refuses new queries', { timeout: 90_000 }, async ({ clickhouse, logger }) => {
    const prefix = uniqueName('cancel');
    const canceller = new QueryCanceller(clickhouse.client, logger, prefix);
    const controller = new AbortController();
    const bound = canceller.bind(controller.signal);
    try {
      const outcome = selectRows(bound, slowQuery).then(
        () => 'finished',
        () => 'aborted',
      );
      const [queryId] = await eventually(async () => ((await running(clickhouse.client, prefix)).length > 0 ? running(clickhouse.client, prefix) : undefined), { timeoutMs: 30_000, what: 'the query in system.processes' });
      expect(queryId).toMatch(new RegExp(`^${prefix}-`));
      controller.abort(new Error('nobody waits'));
      expect(await outcome).toBe('aborted');
      await eventually(async () => ((await running(clickhouse.client, prefix)).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the query gone from system.processes' });
      await expect(selectRows(bound, sql`SELECT 1`)).rejects.toThrow('nobody waits');
    } finally {
      await killAll(clickhouse.client, prefix);
    }
  });

  test('a replaced subscriber’s read: its query stops once nobody waits for it; a shared read goes on while someone does', { timeout: 90_000 }, async ({ clickhouse, logger }) => {
    const prefix = uniqueName('snapshot');
    const canceller = new QueryCanceller(clickhouse.client, logger, prefix);
    const reads = new SnapshotReads({ perSocket: 2, perToken: 4, pools: { operator: 4, display: 2, firm: 2 } }, (signal) => canceller.bind(signal));
    const subscribe = () => {
      const ended = new AbortController();
      const answer = reads.read({
        key: 'slots?site=',
        role: 'firm',
        token: 'haiha-1',
        socket: reads.socketBudget(),
        signal: ended.signal,
        position: () => 0,
        canJoin: () => true,
        read: (bound) => selectRows(bound, slowQuery),
      });
      answer.catch(() => {});
      return () => ended.abort(new Error('replaced'));
    };
    try {
      const first = subscribe();
      const second = subscribe();
      await eventually(async () => ((await running(clickhouse.client, prefix)).length > 0 ? true : undefined), { timeoutMs: 30_000, what: 'the shared read in system.processes' });
      expect(await running(clickhouse.client, prefix)).toHaveLength(1);
      const [before = 0] = await elapsed(clickhouse.client, prefix);
      first();
      // Still wanted by the second subscriber: the same query goes on running (and would vanish if killed).
      await eventually(
        async () => {
          const now = await elapsed(clickhouse.client, prefix);
          if (now.length !== 1) throw new Error(`${now.length} queries running`);
          return now[0]! > before + 0.5 ? true : undefined;
        },
        { timeoutMs: 30_000, what: 'the shared read running on after one subscriber left' },
      );
      second();
      await eventually(async () => ((await running(clickhouse.client, prefix)).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the abandoned read gone from system.processes' });
    } finally {
      await killAll(clickhouse.client, prefix);
    }
  });
});
