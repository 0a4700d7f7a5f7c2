import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { JourneyTracker, loadCatalog, type TruckEvent } from '@tower/shared';
import { test } from '@tower/shared/testing';
import { EventStore } from '../../../aggregator/src/store.ts';
import { migrate, storeSeeded } from '../../../aggregator/src/test-support.ts';
import { defaultTileThresholds } from '../domain/kpis.ts';
import { readZoneKpis } from './kpi-reader.ts';
import { HistoryStore } from './store.ts';

const catalog = loadCatalog();
const minute = 60_000;

/** One truck's journey through a lane: plate read, optionally held by customs, gate-out `clearanceMs` later. */
function journey(plate: string, site: string, lane: string, plateReadAt: number, clearanceMs: number, heldAfterMs?: number): TruckEvent[] {
  const truck = { plate, plateCountry: 'VN', direction: 'export', site, source: `${site}-test` } as const;
  const event = (type: TruckEvent['type'], at: number, extra: object = {}) => ({ ...truck, eventId: randomUUID(), type, observedAt: at, ...extra }) as TruckEvent;
  return [
    event('truck.arrived', plateReadAt - minute),
    event('truck.plate-read', plateReadAt, { lane, confidence: 0.98 }),
    ...(heldAfterMs === undefined ? [] : [event('truck.customs-held', plateReadAt + heldAfterMs, { holdReason: 'physical-inspection' })]),
    event('truck.gate-out', plateReadAt + clearanceMs, { lane }),
  ];
}

describe('KPI tiles from ClickHouse', () => {
  test('smart-lane clearance from the trucks that passed, held trucks counted apart, manual lanes with their own figure, and no verdict on too few trucks', { timeout: 120_000 }, async ({ clickhouse }) => {
    await migrate(clickhouse.settings);
    const at = Math.floor(Date.now() / minute) * minute - 30_000;
    const events: TruckEvent[] = [];
    // Bắc Luân II: 25 trucks through smart lanes in 8–14 s, 3 held by customs for 20 minutes (they would set the p95 to 20 minutes).
    for (let i = 0; i < 25; i += 1) events.push(...journey(`14C-100.${String(i).padStart(2, '0')}`, 'bac-luan-2', i % 2 ? 'bl2-smart-ex-1' : 'bl2-smart-ex-2', at - 50 * minute + i * minute, 8_000 + (i % 7) * 1_000));
    for (let i = 0; i < 3; i += 1) events.push(...journey(`14C-200.${String(i).padStart(2, '0')}`, 'bac-luan-2', 'bl2-smart-ex-1', at - 40 * minute + i * minute, 20 * minute, 5_000));
    // A plate held earlier in the day, before this crossing's plate read, passes this time: not held.
    events.push(...journey('14C-300.00', 'bac-luan-2', 'bl2-smart-ex-3', at - 5 * 3600_000, 30 * minute, 10_000));
    events.push(...journey('14C-300.00', 'bac-luan-2', 'bl2-smart-ex-3', at - 10 * minute, 9_000));
    // Km3+4: manual lanes, 4 to 6 minutes, one held.
    for (let i = 0; i < 6; i += 1) events.push(...journey(`14C-400.${String(i).padStart(2, '0')}`, 'km3-4-hai-yen', 'km34-manual-ex-1', at - 30 * minute + i * minute, 4 * minute + i * 20_000));
    events.push(...journey('14C-400.99', 'km3-4-hai-yen', 'km34-manual-ex-2', at - 45 * minute, 35 * minute, 60_000));
    // Ka Long: a single truck over the target through a manual lane; Bắc Luân II's smart lanes are the only ones judged.
    events.push(...journey('14C-500.00', 'ka-long', 'kl-manual-ex-1', at - 20 * minute, 15_300));

    const journeys = new JourneyTracker();
    const seeded = [...events].sort((a, b) => a.observedAt - b.observedAt).map((event, offset) => ({
      consumed: { topic: 'tower.trucks.v1', partition: 0, offset: BigInt(offset), ingestedAt: event.observedAt, family: 'truck' as const, schemaVersion: 1, event },
      derived: { ...journeys.apply(event), openMs: 0 },
    }));
    await storeSeeded(new EventStore(clickhouse.client), seeded);

    const settings = { tiles: defaultTileThresholds, queueFreshMs: 15 * minute, laneStateLookbackDays: 1 };
    const kpis = await readZoneKpis(new HistoryStore(clickhouse.client), catalog, settings, at);
    const bl2 = kpis.sites.get('bac-luan-2')!.clearance;
    expect(bl2.smart).toMatchObject({ trucks: 26, heldTrucks: 3, verdict: 'within' });
    expect(bl2.smart.p95Ms).toBeGreaterThanOrEqual(13_000);
    expect(bl2.smart.p95Ms).toBeLessThanOrEqual(14_000);
    expect(bl2.manual).toEqual({ trucks: 0, p50Ms: null, p95Ms: null, heldTrucks: 0 });
    const km34 = kpis.sites.get('km3-4-hai-yen')!.clearance;
    expect(km34.smart.verdict).toBe('none');
    expect(km34.manual).toMatchObject({ trucks: 6, heldTrucks: 1 });
    expect(km34.manual.p95Ms).toBeLessThan(6 * minute);
    expect(kpis.sites.get('ka-long')!.clearance.manual).toMatchObject({ trucks: 1, p95Ms: 15_300, heldTrucks: 0 });
    // The zone: smart lanes judged on their own trucks; manual lanes pooled apart, never against the 15 s.
    expect(kpis.zone.clearance).toMatchObject({ targetMs: 15_000, minTrucks: 20, smart: { trucks: 26, heldTrucks: 3, verdict: 'within' }, manual: { trucks: 7, heldTrucks: 1 } });

    // With a higher minimum the same 26 trucks are too few to judge.
    const strict = await readZoneKpis(new HistoryStore(clickhouse.client), catalog, { ...settings, tiles: { ...defaultTileThresholds, clearanceMinTrucks: 27 } }, at);
    expect(strict.zone.clearance.smart.verdict).toBe('too-few');
  });
});
