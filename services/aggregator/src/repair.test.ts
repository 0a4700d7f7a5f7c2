/**
 * The repair's waits are bounded: it runs inside a consumer's batch, where nothing
 * heartbeats, so a deletion that does not finish must fail the run within its budget
 * (the runner then heartbeats through its backoff and retries), and the next run must
 * wait for that deletion before it compares anything. A scripted client stands in for
 * ClickHouse (repair.int.test.ts runs the repair against the real server).
 */
import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@tower/shared';
import { AggregateRepair, RepairWaitExceeded } from './repair.ts';
import type { RawRow } from './domain/rows.ts';

const view = 'CREATE MATERIALIZED VIEW tower.throughput_1m_from_truck_events TO tower.throughput_1m AS SELECT toStartOfMinute(observed_at) AS window_start, site, sumState(toUInt64(1)) AS events FROM tower.truck_events GROUP BY window_start, site';

/** A ClickHouse whose one aggregate window disagrees with the raw rows, and whose deletions never finish. */
function neverFinishingDeletions() {
  const statements: string[] = [];
  let deletionsSent = 0;
  const answer = (query: string): Record<string, unknown>[] => {
    if (/FROM system\.processes/.test(query)) return [];
    if (/engine = 'MaterializedView'/.test(query)) return [{ name: 'throughput_1m_from_truck_events', create_table_query: view }];
    if (/SELECT sorting_key/.test(query)) return [{ sorting_key: 'site, window_start' }];
    if (/FROM system\.columns/.test(query)) return [{ name: 'window_start' }, { name: 'site' }, { name: 'events' }];
    if (/FROM system\.mutations/.test(query)) return Array.from({ length: deletionsSent }, (_, i) => ({ mutation_id: `mutation_${i + 2}.txt`, created: '2026-12-01 03:00:00', parts_to_do: 3 }));
    // The views' count of the raw rows says 3; the aggregate table has 2.
    if (/FROM \(SELECT toStartOfMinute/.test(query)) return [{ site: 'bac-luan-2', window_s: 1_800_000_000, n: '3' }];
    if (/FROM `?throughput_1m`? WHERE/.test(query)) return [{ site: 'bac-luan-2', window_s: 1_800_000_000, n: '2' }];
    return [];
  };
  const client = {
    async query({ query }: { query: string }) {
      statements.push(query);
      return { json: async () => answer(query) };
    },
    async command({ query }: { query: string }) {
      statements.push(query);
      if (/^ALTER TABLE .* DELETE/.test(query)) deletionsSent += 1;
    },
  } as unknown as ClickHouseClient;
  return { client, statements };
}

const row = { site: 'bac-luan-2', observed_ms: 1_800_000_000_000 } as unknown as RawRow;

describe('AggregateRepair waits within its budget', () => {
  it('fails a run whose deletion has not finished within the budget, keeps the doubt, and the next run waits for that deletion before comparing', async () => {
    const { client, statements } = neverFinishingDeletions();
    const repair = new AggregateRepair(client, { insertQueryIdPrefix: 'tower-aggregator:insert:', waitBudgetMs: 200 });
    repair.noteFailed([row]);
    await expect(repair.run()).rejects.toThrow(RepairWaitExceeded);
    expect(statements.filter((s) => /DELETE WHERE/.test(s))).toHaveLength(1);
    expect(repair.pending).toBe(true);

    const before = statements.length;
    await expect(repair.run()).rejects.toThrow(/throughput_1m: the deletion of windows to rebuild has not finished within the repair's 0.2 s \(mutation_2.txt sent 2026-12-01 03:00:00, 3 parts to do;/);
    const second = statements.slice(before);
    // Nothing compared, deleted or inserted while the earlier deletion is pending.
    expect(second.filter((s) => !/FROM system\.(processes|mutations)/.test(s))).toEqual([]);
    expect(repair.pending).toBe(true);
  });

  it('nudges a deletion pending past its threshold with a mutation that changes nothing, once per interval and across runs', async () => {
    const { client, statements } = neverFinishingDeletions();
    const repair = new AggregateRepair(client, { insertQueryIdPrefix: 'tower-aggregator:insert:', waitBudgetMs: 400, nudge: { afterMs: 150, everyMs: 60_000 } });
    repair.noteFailed([row]);
    const nudges = () => statements.filter((s) => /DELETE WHERE 0$/.test(s));
    await expect(repair.run()).rejects.toThrow(RepairWaitExceeded);
    expect(nudges()).toEqual(['ALTER TABLE throughput_1m DELETE WHERE 0']);
    // The deletion is still pending at the next run: it was seen pending long enough already, but the interval has not passed.
    await expect(repair.run()).rejects.toThrow(RepairWaitExceeded);
    expect(nudges()).toHaveLength(1);
  });

  it('leaves a deletion alone while it is pending for less than the threshold', async () => {
    const { client, statements } = neverFinishingDeletions();
    const repair = new AggregateRepair(client, { insertQueryIdPrefix: 'tower-aggregator:insert:', waitBudgetMs: 300, nudge: { afterMs: 10_000, everyMs: 60_000 } });
    repair.noteFailed([row]);
    await expect(repair.run()).rejects.toThrow(RepairWaitExceeded);
    expect(statements.filter((s) => /DELETE WHERE 0$/.test(s))).toEqual([]);
  });
});
