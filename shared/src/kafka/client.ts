import { Kafka, Partitioners, logLevel, type Admin, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from '../logging.ts';

/**
 * KafkaJS sits behind these few functions and the TowerProducer interface, so business
 * code never imports kafkajs and a maintained client can replace it in one place.
 */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Per-connection timeout; KafkaJS retries with its own backoff on top. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How often a failed request is retried with backoff before it fails (default 8). */
  retries?: number;
}

export function createKafka(settings: KafkaSettings): Kafka {
  const log = settings.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 3000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 300, retries: settings.retries ?? 8, maxRetryTime: 10_000 },
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        const record = { namespace, ...fields };
        if (level === logLevel.ERROR) log.error(record, message);
        else if (level === logLevel.WARN) log.warn(record, message);
        else if (level === logLevel.INFO) log.info(record, message);
        else log.debug(record, message);
      },
  });
}

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | string;
  headers?: Record<string, string | Buffer>;
  /** Kafka's CreateTime (ms as a string); the broker's clock when absent. */
  timestamp?: string;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

export interface TowerProducer {
  connect(): Promise<void>;
  /**
   * Resolves only once every message of every topic is acknowledged by all in-sync
   * replicas (acks=all, idempotent: a retried request is not written twice).
   */
  send(batch: TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Requests that arrive while Kafka requests are in flight are merged into one
 * `sendBatch`: under load one produce request carries many callers' messages (far less
 * per-request work in KafkaJS and the broker); when idle a send goes out at once.
 * Every caller's promise settles with the request that carried its messages, so a 2xx
 * upstream still means "acknowledged by all in-sync replicas".
 */
export class CoalescingSender {
  private queue: { batch: TopicMessages[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly sendBatch: (batch: TopicMessages[]) => Promise<void>,
    private readonly maxInFlight: number,
  ) {}

  send(batch: TopicMessages[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Let the requests of this tick join before the produce request is built.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    const callers = this.queue;
    this.queue = [];
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const { batch } of callers) {
      for (const { topic, messages } of batch) {
        const list = byTopic.get(topic);
        if (list) list.push(...messages);
        else byTopic.set(topic, [...messages]);
      }
    }
    this.inFlight += 1;
    try {
      await this.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      for (const caller of callers) caller.resolve();
    } catch (error) {
      for (const caller of callers) caller.reject(error);
    } finally {
      this.inFlight -= 1;
      this.schedule();
    }
  }
}

export function createProducer(kafka: Kafka, options: { maxInFlightRequests?: number } = {}): TowerProducer {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    // Java-compatible murmur2: the same key lands on the same partition as with Kafka's own clients.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const sender = new CoalescingSender((batch) => producer.sendBatch({ acks: -1, topicMessages: batch }).then(() => undefined), options.maxInFlightRequests ?? 2);
  return {
    connect: () => producer.connect(),
    send: (batch) => sender.send(batch),
    disconnect: () => producer.disconnect(),
  };
}

/** Resolves when the cluster answers a metadata request; for readiness checks. */
export async function pingKafka(admin: Admin): Promise<void> {
  await admin.describeCluster();
}
