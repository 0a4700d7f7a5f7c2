import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger, loadCatalog, type ConsumedEvent, type ContainerEvent, type PartitionBatch } from '@tower/shared';
import { sampleEvents } from '@tower/shared/testing';
import { LiveJourneys } from './domain/live-journeys.ts';
import { rawColumns, rawTables } from './domain/rows.ts';
import { LiveWindows } from './domain/windows.ts';
import { AggregatorMetrics } from './metrics.ts';
import { AggregationPipeline } from './pipeline.ts';
import { EncodedRows, NativeEncoder, RowRefused } from './native-block.ts';
import type { EventStore } from './store.ts';

describe('AggregationPipeline, a value refused before its insert', () => {
  it('reads the column types from the server once for a refused event, not again at each step of the split that isolates it', async () => {
    let typeReads = 0;
    let storedUpTo = -1n;
    const inserted: number[] = [];
    const store = {
      repairPending: async () => undefined,
      loadPartition: async () => ({ maxOffset: storedUpTo, recentIds: [], replay: [] }),
      rows: async () => new EncodedRows(new NativeEncoder(rawTables.container, rawColumns.container)),
      insert: async (_family: string, rows: EncodedRows<unknown>) => void inserted.push(rows.count),
      columnTypesChanged: async () => {
        typeReads += 1;
        return false;
      },
    } as unknown as EventStore;
    const live = { windows: new LiveWindows(120_000, 3_600_000), journeys: new LiveJourneys(), changed: () => undefined, decoded: () => undefined, stored: () => undefined, failed: () => undefined, assigned: () => undefined };
    const pipeline = new AggregationPipeline(store, loadCatalog(), live, new AggregatorMetrics(new Registry()), { dedupWindowEvents: 1000 }, createLogger({ service: 'test', level: 'silent' }));
    const container = sampleEvents(Date.now() - 7_200_000).find((e) => e.type === 'container.discharged') as ContainerEvent;
    const events: ConsumedEvent[] = Array.from({ length: 16 }, (_, i) => ({
      topic: 'tower.containers.v1',
      partition: 0,
      offset: BigInt(i),
      ingestedAt: container.observedAt,
      family: 'container',
      schemaVersion: 1,
      event: { ...container, eventId: `c-${i}`, sizeFt: i === 11 ? -20 : 40 } as ContainerEvent,
    }));
    const batchOf = (part: ConsumedEvent[]): PartitionBatch => ({ topic: 'tower.containers.v1', partition: 0, events: part, lastOffset: part.at(-1)!.offset });
    // As the runner splits a refused batch: in halves, in offset order, down to the event that fails alone (dead-lettered).
    const deadLettered: string[] = [];
    const handle = async (part: ConsumedEvent[]): Promise<void> => {
      try {
        await pipeline.handleBatch(batchOf(part));
        storedUpTo = part.at(-1)!.offset;
      } catch (error) {
        expect(error).toBeInstanceOf(RowRefused);
        if (part.length === 1) return void deadLettered.push((error as Error).message);
        await handle(part.slice(0, part.length / 2));
        await handle(part.slice(part.length / 2));
      }
    };
    await handle(events);
    expect(deadLettered).toEqual([expect.stringMatching(/size_ft \(UInt8\) cannot hold the value: -20/)]);
    expect(inserted.reduce((sum, n) => sum + n, 0)).toBe(15);
    expect(typeReads).toBe(1);
  });
});
