/** Builds a real aggregator on the test's own topics and ClickHouse database (for integration tests). */
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { EventCodec, applyMigrations, createProducer, eventTypeSchemas, Lifecycle, loadCatalog, loadMigrations, type ClickHouseClient, type ClickHouseSettings, type ConsumedEvent, type FamilyName, type Logger, type TopicMessages, type TowerEvent } from '@tower/shared';
import { buildApp, type Aggregator, type AggregatorSettings } from './app.ts';
import { dimensionsOf, noDerived, partitionDayOf, type Derived, type RowSource } from './domain/rows.ts';
import { RowRefused, type EncodedRows } from './native-block.ts';
import type { EventStore } from './store.ts';

export const migrationsDirectory = path.resolve(import.meta.dirname, '../../../infra/clickhouse/migrations');

export interface AggregatorTopics {
  events: Record<FamilyName, string>;
  deadLetter: string;
  throughput: string;
  journeys: string;
}

export async function createAggregatorTopics(createTopic: (options?: { partitions?: number }) => Promise<string>, partitions = 3): Promise<AggregatorTopics> {
  return {
    events: { truck: await createTopic({ partitions }), container: await createTopic({ partitions }), lane: await createTopic({ partitions }) },
    deadLetter: await createTopic({ partitions: 1 }),
    throughput: await createTopic({ partitions: 1 }),
    journeys: await createTopic({ partitions: 1 }),
  };
}

export async function migrate(settings: ClickHouseSettings): Promise<void> {
  await applyMigrations(settings, loadMigrations(migrationsDirectory));
}

export async function startAggregator(
  deps: { kafka: Kafka; admin: Admin; logger: Logger; clickhouse: { client: Parameters<typeof buildApp>[0]['clickhouse'] }; topics: AggregatorTopics },
  settings: Partial<AggregatorSettings> = {},
): Promise<Aggregator & { close(): Promise<void> }> {
  const producer = createProducer(deps.kafka);
  await producer.connect();
  const aggregator = await buildApp({
    settings: {
      groupId: `aggregator-${Math.random().toString(36).slice(2)}`,
      sessionTimeoutMs: 10_000,
      dedupWindowEvents: 10_000,
      allowedLatenessMs: 120_000,
      tickIntervalMs: 50,
      tickHorizonMs: 3_600_000,
      fetchMinBytes: 1,
      fetchMaxWaitMs: 100,
      fetchMaxBytesPerPartition: 1024 * 1024,
      partitionsConcurrently: 18,
      ...settings,
    },
    logger: deps.logger,
    catalog: loadCatalog(),
    kafka: deps.kafka,
    producer,
    clickhouse: deps.clickhouse.client,
    metrics: new Registry(),
    readiness: [],
    topics: deps.topics,
  });
  const lifecycle = new Lifecycle(deps.logger);
  await lifecycle.start(aggregator.parts);
  return {
    ...aggregator,
    /** Stops the parts as main.ts does, then the producer. */
    async close() {
      await lifecycle.stop('test over');
      await producer.disconnect();
    },
  };
}

const codec = new EventCodec();

/** Events as the ingest API writes them: encoded, keyed, on their family's topic. */
export function eventMessages(topics: AggregatorTopics, events: readonly TowerEvent[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const event of events) {
    const family = eventTypeSchemas.get(event.type)!.family;
    const topic = topics.events[family.name];
    const batch = byTopic.get(topic) ?? { topic, messages: [] };
    batch.messages.push({ key: family.keyOf(event), value: codec.encode(family.name, event) });
    byTopic.set(topic, batch);
  }
  return [...byTopic.values()];
}

/** An event to store as the aggregator stores it: as consumed, with the figures its trackers derived (none if left out). */
export interface SeededEvent {
  consumed: ConsumedEvent;
  derived?: Derived;
}

/**
 * Events stored as the aggregator stores them, for tests and drills that seed raw rows:
 * encoded by the store's Native encoders and inserted by `EventStore.insert`, a run per
 * family and UTC day (the raw tables' partition). A value its column cannot hold throws.
 */
export async function storeSeeded(store: EventStore, events: readonly SeededEvent[]): Promise<void> {
  const catalog = loadCatalog();
  const runs = new Map<string, { family: FamilyName; rows: EncodedRows<RowSource> }>();
  for (const { consumed, derived = noDerived } of events) {
    const { family, event } = consumed;
    const key = `${family}|${partitionDayOf(event.observedAt)}`;
    let run = runs.get(key);
    if (!run) runs.set(key, (run = { family, rows: await store.rows(family) }));
    const refusal = run.rows.add({ consumed, dimensions: dimensionsOf(event, catalog), derived }, event.site, event.observedAt);
    if (refusal) throw new RowRefused(refusal, `the row of event ${event.eventId}`);
  }
  await Promise.all([...runs.values()].map(({ family, rows }) => store.insert(family, rows)));
}

export async function queryRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

/** Every raw row of the three families, with the columns the tests compare. */
export const allRawEvents = `(SELECT event_id, site, lane, lane_kind, kafka_topic, kafka_partition, kafka_offset FROM truck_events
  UNION ALL SELECT event_id, site, lane, lane_kind, kafka_topic, kafka_partition, kafka_offset FROM container_events
  UNION ALL SELECT event_id, site, lane, lane_kind, kafka_topic, kafka_partition, kafka_offset FROM lane_events)`;

/**
 * Events stored as raw rows and counted by the 1-minute aggregates. A reader can see an
 * insert's raw part a moment before its materialized views' parts: wait for both.
 */
export async function storedCounts(client: ClickHouseClient): Promise<{ raw: number; aggregated: number }> {
  const [raw] = await queryRows<{ n: string }>(client, `SELECT count() AS n FROM ${allRawEvents}`);
  const [aggregated] = await queryRows<{ n: string }>(client, 'SELECT sumMerge(events) AS n FROM throughput_1m');
  return { raw: Number(raw?.n ?? 0), aggregated: Number(aggregated?.n ?? 0) };
}

/** Events both stored raw and aggregated (the lesser of `storedCounts`): the figure a wait for every event stored progresses on. */
export const storedAndAggregated = async (client: ClickHouseClient): Promise<number> => {
  const { raw, aggregated } = await storedCounts(client);
  return Math.min(raw, aggregated);
};

/** Rows stored, once the aggregates agree (-1 while they do not): for a wait on exactly so many events, no more. */
export const storedAgreeing = async (client: ClickHouseClient): Promise<number> => {
  const { raw, aggregated } = await storedCounts(client);
  return raw === aggregated ? raw : -1;
};

/** Stored events per `site|lane|laneKind`: raw rows, and the 1-minute and 1-hour aggregates. */
export async function countsByLane(client: ClickHouseClient): Promise<{ raw: Map<string, number>; minute: Map<string, number>; hour: Map<string, number> }> {
  const byGroup = async (count: string, from: string) =>
    new Map((await queryRows<{ g: string; n: string }>(client, `SELECT concat(site, '|', lane, '|', lane_kind) AS g, ${count} AS n FROM ${from} GROUP BY g`)).map((r) => [r.g, Number(r.n)]));
  return { raw: await byGroup('count()', allRawEvents), minute: await byGroup('sumMerge(events)', 'throughput_1m'), hour: await byGroup('sumMerge(events)', 'throughput_1h') };
}
