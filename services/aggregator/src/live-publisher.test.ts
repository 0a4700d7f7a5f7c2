import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { eventually } from '@tower/shared/testing';
import { createLogger, emptyMeasures, type ThroughputTick, type TowerProducer, type WindowDimensions } from '@tower/shared';
import { LiveJourneys } from './domain/live-journeys.ts';
import { LiveWindows } from './domain/windows.ts';
import { LivePublisher } from './live-publisher.ts';
import { AggregatorMetrics } from './metrics.ts';
import type { EventStore } from './store.ts';

describe('LivePublisher', () => {
  it('publishes a minute rebuilt from the raw rows again as a correction, read from the store, and leaves out one beyond the horizon', async () => {
    const sent: ThroughputTick[] = [];
    const producer = { send: async (batches: { messages: { value: string }[] }[]) => void sent.push(...batches.flatMap((b) => b.messages.map((m) => JSON.parse(m.value) as ThroughputTick))) } as unknown as TowerProducer;
    const store = { windows: async (windows: readonly WindowDimensions[]) => windows.map((w) => ({ ...w, measures: { events: 7 } })) } as unknown as EventStore;
    const live = new LivePublisher(new LiveWindows(120_000, 3_600_000), new LiveJourneys(), store, producer, { throughput: 'ticks', journeys: 'journeys' }, new AggregatorMetrics(new Registry()), createLogger({ service: 'test', level: 'silent' }), 0);
    const minute = Math.floor(Date.now() / 60_000) * 60 - 120;
    const window = { site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', lane_kind: 'smart' };
    live.correct([
      { ...window, window_start: minute },
      { ...window, window_start: minute - 2 * 3600 },
    ]);
    await live.stop();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', windowStart: minute * 1000, correction: true, events: 7 });
  });
});

describe('LivePublisher provisional ticks', () => {
  it('publishes a decoded batch at once as provisional, and the confirmed figures read after its insert replace them', async () => {
    const sent: ThroughputTick[] = [];
    const producer = { send: async (batches: { messages: { value: string }[] }[]) => void sent.push(...batches.flatMap((b) => b.messages.map((m) => JSON.parse(m.value) as ThroughputTick))) } as unknown as TowerProducer;
    const store = { windows: async (windows: readonly WindowDimensions[]) => windows.map((w) => ({ ...w, measures: { ...emptyMeasures, events: 2, trucksCrossed: 1 } })) } as unknown as EventStore;
    const registry = new Registry();
    const windows = new LiveWindows(120_000, 3_600_000);
    const live = new LivePublisher(windows, new LiveJourneys(), store, producer, { throughput: 'ticks', journeys: 'journeys' }, new AggregatorMetrics(registry), createLogger({ service: 'test', level: 'silent' }), 0);
    const now = Date.now();
    const row = (type: string) => ({ type, site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', lane_kind: 'smart', observed_ms: now, ingested_ms: now });
    live.decoded('trucks:0', [row('truck.border-crossed'), row('truck.arrived')]);
    await eventually(async () => (sent.length > 0 ? true : undefined), { what: 'the provisional tick' });
    expect(sent).toEqual([expect.objectContaining({ provisional: true, events: 2, trucksCrossed: 1, newestIngestedAt: now })]);
    // The insert is done: the pipeline notes the events and starts a round.
    live.stored('trucks:0');
    windows.note({ source: 'trucks:0', site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart', observedAt: now, ingestedAt: now }, now);
    await live.stop();
    expect(sent.at(-1)).toMatchObject({ provisional: false, events: 2, newestIngestedAt: now });
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]!.value;
    expect(await metric('tower_aggregator_provisional_ticks_total')).toBe(1);
    expect(await metric('tower_aggregator_provisional_corrections_total')).toBe(0);
  });
});
