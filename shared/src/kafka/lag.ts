import type { Admin, Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging.ts';

/** How many messages one consumer group has still to read on one partition. */
export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  messages: number;
}

/** Reads one consumer's lag now; throws (or never answers) when Kafka does not. */
export type LagReader = () => Promise<readonly LagSample[]>;

interface Source {
  read: LagReader;
  logger: Logger;
  timeoutMs: number;
  last: readonly LagSample[];
}

const sourcesOf = new WeakMap<Registry, Set<Source>>();

/**
 * Adds a consumer to `tower_consumer_lag_messages{group,topic,partition}` of `registry`,
 * read at each scrape: one gauge per registry for every consumer of the service (slots
 * reads in two groups, live in one per broadcast feed). A reader that fails or does not
 * answer within `timeoutMs` keeps its last values. Returns the removal (a stopped
 * consumer's series go with it).
 */
export function reportLag(registry: Registry, read: LagReader, logger: Logger, timeoutMs = 2000): () => void {
  let sources = sourcesOf.get(registry);
  if (!sources) {
    const all = (sources = new Set());
    sourcesOf.set(registry, all);
    new Gauge({
      name: 'tower_consumer_lag_messages',
      help: 'Messages a consumer group has still to read, per partition (its end minus the next offset the group reads), read at scrape',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
      async collect() {
        const samples = await Promise.all([...all].map(sample));
        this.reset();
        for (const { group, topic, partition, messages } of samples.flat()) this.set({ group, topic, partition: String(partition) }, messages);
      },
    });
  }
  const source: Source = { read, logger, timeoutMs, last: [] };
  sources.add(source);
  return () => void sources.delete(source);
}

async function sample(source: Source): Promise<readonly LagSample[]> {
  try {
    source.last = await withTimeout(source.read(), source.timeoutMs);
  } catch (error) {
    source.logger.warn({ err: error }, 'consumer lag not read: the last values stay');
  }
  return source.last;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** An admin client for reading offsets at scrape: connected on first use, and anew after a failed read. */
export class LagAdmin {
  private connected: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async use<T>(read: (admin: Admin) => Promise<T>): Promise<T> {
    this.connected ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    try {
      return await read(await this.connected);
    } catch (error) {
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const admin = await this.connected?.catch(() => undefined);
    this.connected = undefined;
    await admin?.disconnect();
  }
}

export interface LagSettings {
  registry: Registry;
  logger: Logger;
  /** The `group` label: a committing group's id, a broadcast reader's stable name. */
  group: string;
  topics: readonly string[];
}

/** A consumer's lag in /metrics from `report()` to `stop()`, read at each scrape through an admin client of its own. */
abstract class ReportedLag {
  protected readonly admin: LagAdmin;
  private stopReporting = () => {};

  constructor(
    kafka: Kafka,
    protected readonly settings: LagSettings,
  ) {
    this.admin = new LagAdmin(kafka);
  }

  /** In /metrics from now on. */
  report(): void {
    this.stopReporting = reportLag(this.settings.registry, () => this.read(), this.settings.logger);
  }

  /** Out of /metrics, and the admin client closed. */
  async stop(): Promise<void> {
    this.stopReporting();
    await this.admin.close();
  }

  protected abstract read(): Promise<LagSample[]>;
}

/**
 * The lag of a group that commits its offsets, read at scrape: for every partition of its
 * topics, the end minus the group's committed offset, whichever member reads it (so a
 * stuck group's lag grows with the topic although it handles nothing). A partition the
 * group has never committed counts from its start when it reads from the beginning
 * (`fromBeginning`), else as 0.
 */
export class CommittedLag extends ReportedLag {
  constructor(
    kafka: Kafka,
    settings: LagSettings,
    private readonly fromBeginning: boolean,
  ) {
    super(kafka, settings);
  }

  protected read(): Promise<LagSample[]> {
    const { group, topics } = this.settings;
    return this.admin.use(async (admin) => {
      const committed = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
      const samples: LagSample[] = [];
      for (const { topic, partitions } of committed) {
        for (const end of await admin.fetchTopicOffsets(topic)) {
          const offset = BigInt(partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
          const next = offset >= 0n ? offset : BigInt(this.fromBeginning ? end.low : end.high);
          const high = BigInt(end.high);
          samples.push({ group, topic, partition: end.partition, messages: Number(high > next ? high - next : 0n) });
        }
      }
      return samples;
    });
  }
}

/**
 * The lag of a reader that commits nothing (a broadcast reader), read at scrape: for
 * every partition of its topics, the end minus the next offset it will deliver
 * (`positions`, keyed `topic:partition`). A partition it has delivered nothing from since
 * it joined is measured from the topic's end at the first scrape.
 */
export class DeliveredLag extends ReportedLag {
  private readonly baseline = new Map<string, bigint>();

  constructor(
    kafka: Kafka,
    settings: LagSettings,
    private readonly positions: () => ReadonlyMap<string, bigint>,
  ) {
    super(kafka, settings);
  }

  protected read(): Promise<LagSample[]> {
    const { group, topics } = this.settings;
    return this.admin.use(async (admin) => {
      const samples: LagSample[] = [];
      const positions = this.positions();
      for (const topic of topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
          const key = `${topic}:${partition}`;
          const end = BigInt(high);
          const next = positions.get(key) ?? this.baseline.get(key) ?? end;
          if (!positions.has(key)) this.baseline.set(key, next);
          samples.push({ group, topic, partition, messages: Number(end > next ? end - next : 0n) });
        }
      }
      return samples;
    });
  }
}
