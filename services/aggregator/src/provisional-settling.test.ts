import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, emptyMeasures, loadCatalog, type ConsumedEvent, type ThroughputMeasures, type ThroughputTick, type TowerProducer, type TruckEvent, type WindowDimensions } from '@tower/shared';
import { eventually } from '@tower/shared/testing';
import { LiveJourneys } from './domain/live-journeys.ts';
import { rawColumns, rawTables } from './domain/rows.ts';
import { LiveWindows } from './domain/windows.ts';
import { LivePublisher } from './live-publisher.ts';
import { AggregatorMetrics } from './metrics.ts';
import { AggregationPipeline } from './pipeline.ts';
import { EncodedRows, NativeEncoder } from './native-block.ts';
import type { EventStore, StoredWindow } from './store.ts';

/** A promise and its resolve, to hold a fake's answer while the test acts. */
function held<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const dims = { site: 'bac-luan-2', lane: 'bl2-smart-ex-1', direction: 'export', laneKind: 'smart' };

/**
 * A publisher over fakes: the ticks it sends, the store's window figures (`figures`,
 * changeable; a read can be held) and its producer's sends of confirmed ticks (holdable).
 */
function harness() {
  const sent: ThroughputTick[] = [];
  const state: { figures: Partial<ThroughputMeasures> | undefined; read?: Promise<void>; send?: Promise<void>; reads: number; confirmedSends: number } = { figures: undefined, reads: 0, confirmedSends: 0 };
  const producer = {
    send: async (batches: { messages: { value: string }[] }[]) => {
      const ticks = batches.flatMap((b) => b.messages.map((m) => JSON.parse(m.value) as ThroughputTick));
      if (ticks.some((t) => !t.provisional)) {
        state.confirmedSends += 1;
        await state.send;
      }
      sent.push(...ticks);
    },
  } as unknown as TowerProducer;
  const store = {
    windows: async (windows: readonly WindowDimensions[]): Promise<StoredWindow[]> => {
      state.reads += 1;
      await state.read;
      const figures = state.figures;
      return figures ? windows.map((w) => ({ ...w, measures: { ...emptyMeasures, ...figures } })) : [];
    },
  } as unknown as EventStore;
  const windows = new LiveWindows(120_000, 3_600_000);
  const journeys = new LiveJourneys();
  const registry = new Registry();
  const metrics = new AggregatorMetrics(registry);
  const live = new LivePublisher(windows, journeys, store, producer, { throughput: 'ticks', journeys: 'journeys' }, metrics, createLogger({ service: 'test', level: 'silent' }), 0);
  const now = Date.now();
  const row = (type: string, ingestedAt = now) => ({ type, site: dims.site, lane: dims.lane, direction: dims.direction, lane_kind: dims.laneKind, observed_ms: now, ingested_ms: ingestedAt });
  const note = (source: string, ingestedAt = now) => windows.note({ ...dims, source, observedAt: now, ingestedAt }, now);
  const provisional = () => sent.filter((t) => t.provisional);
  const confirmed = () => sent.filter((t) => !t.provisional);
  return { sent, state, store, producer, windows, journeys, metrics, live, now, row, note, provisional, confirmed };
}

describe('provisional figures settle exactly: last confirmed + the batches not yet in it', { timeout: 30_000 }, () => {
  it('a batch decoded while a confirmed tick is being sent adds to the figures read, not to them and the batches they hold', async () => {
    const h = harness();
    h.live.decoded('trucks:0', [h.row('truck.border-crossed'), h.row('truck.arrived')]);
    h.live.stored('trucks:0');
    h.note('trucks:0');
    h.state.figures = { events: 2, trucksCrossed: 1 };
    const sending = held<void>();
    h.state.send = sending.promise;
    h.live.request();
    // The round has read the window (2 events, the first batch) and is sending its confirmed tick.
    await eventually(async () => (h.state.confirmedSends === 1 ? true : undefined), { what: 'the round sending' });
    h.live.decoded('trucks:1', [h.row('truck.border-crossed')]);
    await eventually(async () => (h.provisional().length === 2 ? true : undefined), { what: 'the second provisional tick' });
    expect(h.provisional()[1]).toMatchObject({ events: 3, trucksCrossed: 2 });
    sending.resolve();
    await h.live.stop();
  });

  it('a batch stored while a round reads the window is counted once, whether the read saw it or not', async () => {
    for (const readSawIt of [true, false]) {
      const h = harness();
      h.live.decoded('trucks:0', [h.row('truck.border-crossed'), h.row('truck.arrived')]);
      h.live.stored('trucks:0');
      h.note('trucks:0');
      const reading = held<void>();
      h.state.read = reading.promise;
      h.live.request();
      await eventually(async () => (h.state.reads === 1 ? true : undefined), { what: 'the round reading' });
      // Meanwhile a batch of another partition is decoded and stored: the read may or may not hold it.
      h.live.decoded('trucks:1', [h.row('truck.border-crossed')]);
      h.live.stored('trucks:1');
      h.note('trucks:1');
      h.state.figures = readSawIt ? { events: 3, trucksCrossed: 2 } : { events: 2, trucksCrossed: 1 };
      reading.resolve();
      await eventually(async () => (h.confirmed().length > 0 ? true : undefined), { what: 'the confirmed tick' });
      h.live.decoded('trucks:2', [h.row('lane.opened')]);
      await eventually(async () => (h.provisional().length === 3 ? true : undefined), { what: 'the third provisional tick' });
      expect(h.provisional()[2], `read saw the batch: ${readSawIt}`).toMatchObject({ events: 4, trucksCrossed: 2 });
      // Once a round reads with nothing in flight, the figures read are the base again.
      h.live.stored('trucks:2');
      h.note('trucks:2');
      h.state.figures = { events: 4, trucksCrossed: 2 };
      h.state.read = undefined;
      h.live.request();
      await eventually(async () => (h.confirmed().at(-1)?.events === 4 ? true : undefined), { what: 'the round after' });
      h.live.decoded('trucks:3', [h.row('truck.arrived')]);
      await eventually(async () => (h.provisional().length === 4 ? true : undefined), { what: 'the fourth provisional tick' });
      expect(h.provisional()[3]).toMatchObject({ events: 5, trucksCrossed: 2 });
      await h.live.stop();
    }
  });
});

const catalog = loadCatalog();
const topic = 'tower.trucks.v1';
const consumedOf = (event: TruckEvent, offset: number, ingestedAt: number): ConsumedEvent => ({ topic, partition: 0, offset: BigInt(offset), ingestedAt, family: 'truck', schemaVersion: 1, event });
const truck = (type: TruckEvent['type'], at: number): TruckEvent => ({ eventId: `${type}-${Math.random()}`, type, site: dims.site, lane: dims.lane, observedAt: at, source: 'BL2-ANPR-01', plate: '14C-123.45', plateCountry: 'VN', direction: 'export', cargoClass: 'farm-produce' }) as TruckEvent;

/** The pipeline over the harness's publisher and a store whose inserts `insert` answers. */
function pipelineOf(h: ReturnType<typeof harness>, insert: () => Promise<void>): AggregationPipeline {
  const store = Object.assign(h.store, {
    repairPending: async () => undefined,
    loadPartition: async () => ({ maxOffset: -1n, recentIds: [], replay: [] }),
    rows: async () => new EncodedRows(new NativeEncoder(rawTables.truck, rawColumns.truck)),
    insert,
    columnTypesChanged: async () => false,
  });
  const live = { windows: h.windows, journeys: h.journeys, changed: () => h.live.request(), decoded: h.live.decoded.bind(h.live), stored: h.live.stored.bind(h.live), failed: h.live.failed.bind(h.live), assigned: h.live.assigned.bind(h.live) };
  return new AggregationPipeline(store, catalog, live, h.metrics, { dedupWindowEvents: 1000 }, createLogger({ service: 'test', level: 'silent' }));
}

describe('provisional figures of batches never stored are withdrawn', { timeout: 30_000 }, () => {
  it('a batch whose insert is refused (then split and dead-lettered) gets a confirmed tick of what is stored, replacing its provisional one', async () => {
    const h = harness();
    const refused = Object.assign(new Error('Code: 53. DB::Exception: Type mismatch'), { code: '53' });
    const pipeline = pipelineOf(h, () => Promise.reject(refused));
    const at = h.now;
    await expect(pipeline.handleBatch({ topic, partition: 0, events: [consumedOf(truck('truck.border-crossed', at), 5, at + 1)], lastOffset: 5n })).rejects.toThrow('Type mismatch');
    expect(h.provisional()).toEqual([expect.objectContaining({ ...dims, events: 1 })]);
    // Nothing of the window is stored: the confirmed tick says so, for the events the provisional one showed (so the wall takes it).
    await eventually(async () => (h.confirmed().length > 0 ? true : undefined), { what: 'a confirmed tick after the refusal' });
    expect(h.confirmed()[0]).toMatchObject({ ...dims, events: 0, trucksCrossed: 0, provisional: false });
    expect(h.confirmed()[0]!.newestIngestedAt).toBeGreaterThanOrEqual(h.provisional()[0]!.newestIngestedAt);
    // The refused batch adds nothing to later estimates.
    h.live.decoded('trucks:1', [h.row('truck.arrived')]);
    await eventually(async () => (h.provisional().length === 2 ? true : undefined), { what: 'the next provisional tick' });
    expect(h.provisional()[1]).toMatchObject({ events: 1, trucksCrossed: 0 });
    await h.live.stop();
  });

  it('on a new assignment, the batches of partitions this member no longer reads leave the estimates and their windows get a confirmed tick', async () => {
    const h = harness();
    const never = held<void>();
    const pipeline = pipelineOf(h, () => never.promise);
    const at = h.now;
    void pipeline.handleBatch({ topic, partition: 0, events: [consumedOf(truck('truck.border-crossed', at), 5, at + 1)], lastOffset: 5n }).catch(() => undefined);
    await eventually(async () => (h.provisional().length === 1 ? true : undefined), { what: 'the provisional tick' });
    h.state.figures = { events: 4 };
    pipeline.onAssignment({ [topic]: [1, 2] });
    await eventually(async () => (h.confirmed().length > 0 ? true : undefined), { what: 'a confirmed tick after the rebalance' });
    expect(h.confirmed()[0]).toMatchObject({ ...dims, events: 4, provisional: false });
    h.live.decoded(`${topic}:1`, [h.row('truck.arrived')]);
    await eventually(async () => (h.provisional().length === 2 ? true : undefined), { what: 'the next provisional tick' });
    expect(h.provisional()[1]).toMatchObject({ events: 5, trucksCrossed: 0 });
    await h.live.stop();
  });
});
