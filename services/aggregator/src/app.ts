import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import {
  consumerReadiness,
  ConsumerRunner,
  EventCodec,
  eventDecoder,
  httpPart,
  installProblemHandler,
  installSecurityHeaders,
  partOf,
  serverOptions,
  registerOpsRoutes,
  stopOnly,
  withoutRequestLogs,
  type ClickHouseClient,
  type FamilyName,
  type ListenOn,
  type Logger,
  type Part,
  type ReadinessCheck,
  type SiteCatalog,
  type TowerProducer,
} from '@tower/shared';
import type { Tracing } from '@tower/shared/tracing';
import { LiveJourneys } from './domain/live-journeys.ts';
import { LiveWindows } from './domain/windows.ts';
import { DeadLetterArchive } from './dead-letters.ts';
import { AggregatorMetrics } from './metrics.ts';
import { AggregationPipeline } from './pipeline.ts';
import { EventStore } from './store.ts';
import { LivePublisher } from './live-publisher.ts';

export interface AggregatorSettings {
  groupId: string;
  sessionTimeoutMs: number;
  dedupWindowEvents: number;
  allowedLatenessMs: number;
  tickIntervalMs: number;
  tickHorizonMs: number;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytesPerPartition: number;
  partitionsConcurrently: number;
}

export interface AggregatorDependencies {
  settings: AggregatorSettings;
  logger: Logger;
  catalog: SiteCatalog;
  kafka: Kafka;
  producer: TowerProducer;
  clickhouse: ClickHouseClient;
  metrics: Registry;
  readiness: ReadinessCheck[];
  /** Topic per family, dead letters, ticks and journey updates: the catalog's names in production, random ones in tests. */
  topics: { events: Readonly<Record<FamilyName, string>>; deadLetter: string; throughput: string; journeys: string };
  /** Only where a collector is configured (see @tower/shared/tracing). */
  tracing?: Tracing;
  /** Where to listen (main.ts); tests that inject leave it out. */
  listen?: ListenOn;
}

export interface Aggregator {
  app: FastifyInstance;
  windows: LiveWindows;
  journeys: LiveJourneys;
  live: LivePublisher;
  /**
   * In start order: HTTP, the live ticks, the dead-letter archive, the consumer. Stopped
   * in reverse: intake ends (the batch in hand is stored and committed, the group left),
   * the archive, the last ticks and journeys published, then HTTP.
   */
  parts: Part[];
}

export async function buildApp(deps: AggregatorDependencies): Promise<Aggregator> {
  const metrics = new AggregatorMetrics(deps.metrics);
  // A minute rebuilt after a failed insert goes out again as a correction: a tick read before the repair may have shown it short.
  // Inserts named by the group, found on the server after a crash; a repair or load waits for them at most half the session timeout, then fails and is retried (it says why in the log and in readiness).
  const store = new EventStore(
    deps.clickhouse,
    (table, rebuilt) => {
      metrics.rebuiltWindows.inc({ table }, rebuilt.length);
      if (table === 'throughput_1m') live.correct(rebuilt);
    },
    { insertQueryIdPrefix: `${deps.settings.groupId}:insert:`, waitBudgetMs: deps.settings.sessionTimeoutMs / 2 },
  );
  const windows = new LiveWindows(deps.settings.allowedLatenessMs, deps.settings.tickHorizonMs);
  const journeys = new LiveJourneys();
  const live = new LivePublisher(windows, journeys, store, deps.producer, { throughput: deps.topics.throughput, journeys: deps.topics.journeys }, metrics, deps.logger, deps.settings.tickIntervalMs, undefined, deps.tracing);
  const pipeline = new AggregationPipeline(store, deps.catalog, { windows, journeys, changed: (trace) => live.request(trace), decoded: (source, rows) => live.decoded(source, rows), stored: (source) => live.stored(source), failed: (source) => live.failed(source), assigned: (owned) => live.assigned(owned) }, metrics, { dedupWindowEvents: deps.settings.dedupWindowEvents }, deps.logger);
  const families = Object.fromEntries((Object.entries(deps.topics.events) as [FamilyName, string][]).map(([family, topic]) => [topic, family]));
  const runner = new ConsumerRunner(
    {
      kafka: deps.kafka,
      mode: { kind: 'group', groupId: deps.settings.groupId, deadLetters: { topic: deps.topics.deadLetter, producer: deps.producer } },
      topics: Object.keys(families),
      decoder: eventDecoder(new EventCodec(), families),
      logger: deps.logger,
      metrics: deps.metrics,
      minBytes: deps.settings.fetchMinBytes,
      maxWaitTimeMs: deps.settings.fetchMaxWaitMs,
      maxBytesPerPartition: deps.settings.fetchMaxBytesPerPartition,
      sessionTimeoutMs: deps.settings.sessionTimeoutMs,
      partitionsConcurrently: deps.settings.partitionsConcurrently,
      tracing: deps.tracing,
    },
    pipeline,
  );
  const deadLetters = new DeadLetterArchive(deps.kafka, { groupId: `${deps.settings.groupId}-dead-letters`, topic: deps.topics.deadLetter, clickhouse: deps.clickhouse, logger: deps.logger, metrics: deps.metrics, sessionTimeoutMs: deps.settings.sessionTimeoutMs });

  const app = Fastify({ ...serverOptions(), loggerInstance: deps.logger as FastifyBaseLogger, logController: withoutRequestLogs() });
  installProblemHandler(app);
  installSecurityHeaders(app);
  registerOpsRoutes(app, { metrics: deps.metrics, readiness: [...deps.readiness, consumerReadiness('consumer', () => [runner]), consumerReadiness('dead-letter archive', () => [deadLetters])] });

  return {
    app,
    windows,
    journeys,
    live,
    parts: [
      httpPart('http', app, deps.listen),
      stopOnly('live (publish the last ticks and journeys)', () => live.stop()),
      partOf('dead-letter archive (commit offsets)', deadLetters),
      partOf('consumer (store and commit the batch in hand, leave the group)', runner, { stopTimeoutMs: 30_000 }),
    ],
  };
}
