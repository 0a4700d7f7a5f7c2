/**
 * Lane states read from `lane_last_1d` (migration 0009) say what the raw lane events say:
 * each lane's last state event and last queue sample since a start, for starts anywhere
 * (mid-day, on an event's millisecond and the one after, on a UTC midnight and just
 * before), with and without a site, once the aggregate repair has fed again the hours
 * whose view rows were lost (the rows counted already are fed again too: max and argMax
 * are idempotent).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { loadCatalog, type LaneEvent } from '@tower/shared';
import { test, uniqueName } from '@tower/shared/testing';
import { AggregateRepair } from '../../../aggregator/src/repair.ts';
import { dimensionsOf, noDerived, rawRowOf } from '../../../aggregator/src/domain/rows.ts';
import { migrate, queryRows } from '../../../aggregator/src/test-support.ts';
import { laneStateEventTypes, type StoredLaneState } from '../domain/kpis.ts';
import { laneStatesFromRawRows as fromRawRows } from './lane-states-reference.ts';
import { HistoryStore } from './store.ts';

const catalog = loadCatalog();
const dayMs = 86_400_000;

/** A small deterministic generator (mulberry32): the same events every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Three days of state changes and queue samples on four lanes of two sites, some of them in the same millisecond. */
function laneEvents(end: number): LaneEvent[] {
  const next = random(19);
  const lanes = [
    ['bac-luan-2', 'bl2-smart-ex-1'],
    ['bac-luan-2', 'bl2-smart-im-1'],
    ['van-ninh', 'vn-port-gate-ex-1'],
    ['km3-4-hai-yen', 'km34-manual-ex-1'],
  ] as const;
  const types = ['lane.opened', 'lane.closed', 'lane.congested', 'lane.fault', 'lane.cleared', 'lane.queue-sampled', 'lane.queue-sampled'] as const;
  const events: LaneEvent[] = [];
  for (let i = 0; i < 1500; i += 1) {
    const [site, lane] = lanes[Math.floor(next() * lanes.length)]!;
    const type = types[Math.floor(next() * types.length)]!;
    const observedAt = i % 50 === 0 && events.length > 0 ? events.at(-1)!.observedAt : end - Math.floor(next() * 3 * dayMs);
    const queue = type === 'lane.congested' || type === 'lane.queue-sampled' ? { queueLength: Math.floor(next() * 60) } : {};
    const fault = type === 'lane.fault' ? { faultCode: 'CAM-7' } : {};
    events.push({ eventId: randomUUID(), type, site, lane, source: `${lane}-test`, observedAt, ...queue, ...fault } as LaneEvent);
  }
  // Sparse lanes yesterday (UTC), for a start at 02:00: one whose only state event came before it (no state since, a
  // queue sample since), one whose only queue sample came before it (a state since, no queue since), one with nothing since.
  const yesterday = Math.floor(end / dayMs) * dayMs - dayMs;
  const at = (hours: number) => yesterday + hours * 3_600_000;
  const sparse = (lane: string, type: LaneEvent['type'], observedAt: number, queueLength?: number) =>
    ({ eventId: randomUUID(), type, site: 'bac-luan-2', lane, source: `${lane}-test`, observedAt, ...(queueLength === undefined ? {} : { queueLength }) }) as LaneEvent;
  events.push(
    sparse('bl2-weighbridge-ex-1', 'lane.opened', at(1)),
    sparse('bl2-weighbridge-ex-1', 'lane.queue-sampled', at(3), 7),
    sparse('bl2-weighbridge-im-1', 'lane.queue-sampled', at(1), 9),
    sparse('bl2-weighbridge-im-1', 'lane.closed', at(3)),
    sparse('bl2-scanner-ex-1', 'lane.opened', at(1)),
  );
  return events;
}

/** Yesterday 02:00 UTC: the start the sparse lanes are made for. */
const sparseStart = (end: number) => Math.floor(end / dayMs) * dayMs - dayMs + 2 * 3_600_000;

/**
 * Comparable answers. Two events of a lane in the same millisecond leave argMax free to
 * pick either on both sides: such a lane's type (or queue length) is compared as the
 * set of those it could be.
 */
function comparable(states: readonly StoredLaneState[], events: readonly LaneEvent[]) {
  const tied = (lane: string, at: number, pick: (e: LaneEvent) => string | undefined) =>
    [...new Set(events.filter((e) => e.lane === lane && e.observedAt === at).map(pick).filter((v): v is string => v !== undefined))].sort().join('|');
  return states
    .map((s) => ({
      ...s,
      stateType: s.stateAt > 0 ? tied(s.lane, s.stateAt, (e) => (laneStateEventTypes.includes(e.type) ? e.type : undefined)) : s.stateType,
      queueLength: s.queueAt > 0 ? tied(s.lane, s.queueAt, (e) => ('queueLength' in e ? String(e.queueLength) : undefined)) : String(s.queueLength),
    }))
    .sort((a, b) => `${a.site}/${a.lane}`.localeCompare(`${b.site}/${b.lane}`));
}

describe('lane states from the per-day aggregate (real ClickHouse 18.16)', () => {
  test('say what the raw lane events say, for any start, once the repair fed again the hours whose view rows were lost', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const end = Date.now();
    const events = laneEvents(end);
    const rows = events.map((event, offset) => rawRowOf({ topic: 'tower.lanes.v1', partition: 0, offset: BigInt(offset), ingestedAt: event.observedAt, family: 'lane', schemaVersion: 1, event }, dimensionsOf(event, catalog), noDerived));
    const insert = (some: typeof rows) => clickhouse.client.command({ query: `INSERT INTO lane_events FORMAT JSONEachRow\n${some.map((r) => JSON.stringify(r)).join('\n')}` });
    // The newest tenth's view rows lost, as a server killed between an insert's raw part and its views' parts leaves them.
    const lost = rows.filter((_, i) => i % 10 === 9);
    await insert(rows.filter((_, i) => i % 10 !== 9));
    await clickhouse.client.command({ query: 'DETACH TABLE lane_last_1d_from_lane_events' });
    await insert(lost);
    await clickhouse.client.command({ query: 'ATTACH TABLE lane_last_1d_from_lane_events' });
    const history = new HistoryStore(clickhouse.client);

    const midnight = Math.floor(end / dayMs) * dayMs;
    const some = events.filter((_, i) => i % 97 === 0).map((e) => e.observedAt);
    const starts = [sparseStart(end), end - 3 * dayMs - 1, end - dayMs, end - 3_600_000, midnight, midnight - 1, midnight - dayMs, midnight - dayMs + 1, ...some, ...some.map((at) => at + 1), ...some.map((at) => at + 1000), end + 1000];
    const differing = async () => {
      const found: string[] = [];
      for (const since of starts) {
        for (const site of [undefined, 'bac-luan-2']) {
          const [aggregated, raw] = [comparable(await history.laneStates(site, since), events), comparable(await fromRawRows(clickhouse.client, site, since), events)];
          if (JSON.stringify(aggregated) !== JSON.stringify(raw)) found.push(`since ${new Date(since).toISOString()}, site ${site ?? 'any'}: ${JSON.stringify(aggregated)} ≠ ${JSON.stringify(raw)}`);
        }
      }
      return found;
    };
    // The lost rows show: the aggregate lacks them.
    expect((await differing()).length).toBeGreaterThan(0);

    // The repair feeds their hours again through the view (the rows already counted there again too: idempotent).
    const repair = new AggregateRepair(clickhouse.client, { insertQueryIdPrefix: `${uniqueName('aggregator')}:insert:`, waitBudgetMs: 60_000 });
    repair.noteFailed(lost);
    await repair.run();
    expect(await differing()).toEqual([]);
    // Not vacuous: lanes with states in the last hour, none after the end.
    expect((await history.laneStates(undefined, end - 3_600_000)).length).toBeGreaterThan(0);
    expect(await history.laneStates(undefined, end + 1000)).toEqual([]);
    const sparse = (await history.laneStates('bac-luan-2', sparseStart(end))).filter((s) => s.lane.startsWith('bl2-weighbridge') || s.lane.startsWith('bl2-scanner'));
    expect(sparse.map((s) => `${s.lane} ${s.stateType || 'no state'} ${s.queueAt > 0 ? s.queueLength : 'no queue'}`).sort()).toEqual(['bl2-weighbridge-ex-1 no state 7', 'bl2-weighbridge-im-1 lane.closed no queue']);
    expect(await queryRows<{ n: string }>(clickhouse.client, 'SELECT count() AS n FROM lane_events')).toEqual([{ n: String(events.length) }]);
  });
});
