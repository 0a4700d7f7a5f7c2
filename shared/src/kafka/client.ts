import { Kafka, Partitioners, logLevel, type Admin, type LogEntry, type Producer } from 'kafkajs';
import { Coalescer } from '../coalescer.ts';
import type { KafkaLogin } from '../config.ts';
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
  /** SASL/SCRAM login (kafkaLoginOf); none: plaintext without a login. */
  login?: KafkaLogin | undefined;
}

export function createKafka(settings: KafkaSettings): Kafka {
  const log = settings.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.login ? { sasl: { ...settings.login } } : {}),
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

/** Many callers' batches as one: the messages of each topic together, in the callers' order. */
export function mergeTopicMessages(batches: readonly TopicMessages[][]): TopicMessages[] {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const batch of batches) {
    for (const { topic, messages } of batch) {
      const list = byTopic.get(topic);
      if (list) list.push(...messages);
      else byTopic.set(topic, [...messages]);
    }
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export function createProducer(kafka: Kafka, options: { maxInFlightRequests?: number } = {}): TowerProducer {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    // Java-compatible murmur2: the same key lands on the same partition as with Kafka's own clients.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  // Sends that arrive while produce requests are in flight share the next request.
  const sender = new Coalescer<TopicMessages[]>((batches) => producer.sendBatch({ acks: -1, topicMessages: mergeTopicMessages(batches) }).then(() => undefined), { maxInFlight: options.maxInFlightRequests ?? 2 });
  return {
    connect: () => producer.connect(),
    send: (batch) => sender.submit(batch),
    disconnect: () => producer.disconnect(),
  };
}

/** Resolves when the cluster answers a metadata request; for readiness checks. */
export async function pingKafka(admin: Admin): Promise<void> {
  await admin.describeCluster();
}
