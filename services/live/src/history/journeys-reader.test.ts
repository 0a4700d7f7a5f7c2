import { describe, expect, it } from 'vitest';
import type { TruckEvent } from '@tower/shared';
import { recentJourneys } from './journeys-reader.ts';

const step = (plate: string, type: TruckEvent['type'], observedAt: number, site = 'bac-luan-2') =>
  ({ type, observedAt, site, plate, plateCountry: 'VN', direction: 'export', eventId: `${plate}-${observedAt}`, source: 's', lane: 'bl2-smart-ex-1' }) as TruckEvent;

describe('recent journeys for a snapshot', () => {
  const hour = 3_600_000;
  const now = 100 * hour;
  const events = [
    // Began 2 h ago, last step 30 min ago: whole, with its first step as start.
    step('14C-111.11', 'truck.arrived', now - 2 * hour),
    step('14C-111.11', 'truck.plate-read', now - 30 * 60_000),
    // Finished 3 h ago, then a new journey 10 min ago: only the new one is recent.
    step('14C-222.22', 'truck.arrived', now - 4 * hour),
    step('14C-222.22', 'truck.gate-out', now - 3 * hour),
    step('14C-222.22', 'truck.arrived', now - 10 * 60_000),
    // Recent, but at another site.
    step('14C-333.33', 'truck.arrived', now - 5 * 60_000, 'van-ninh'),
  ];

  it('keeps journeys with a step in the active window, whole, newest step first', () => {
    const journeys = recentJourneys(events, undefined, now - hour, 10);
    expect(journeys.map((j) => [j.plate, j.startedAt, j.lastStepAt])).toEqual([
      ['14C-333.33', now - 5 * 60_000, now - 5 * 60_000],
      ['14C-222.22', now - 10 * 60_000, now - 10 * 60_000],
      ['14C-111.11', now - 2 * hour, now - 30 * 60_000],
    ]);
    expect(journeys[2]!.steps).toEqual({ arrived: now - 2 * hour, 'plate-read': now - 30 * 60_000 });
  });

  it('filters by site and caps the count', () => {
    expect(recentJourneys(events, 'bac-luan-2', now - hour, 10).map((j) => j.plate)).toEqual(['14C-222.22', '14C-111.11']);
    expect(recentJourneys(events, undefined, now - hour, 1).map((j) => j.plate)).toEqual(['14C-333.33']);
  });
});
