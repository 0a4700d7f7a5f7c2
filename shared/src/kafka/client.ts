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
   * When `signal` aborts first, rejects with its reason; a batch still waiting for its
   * turn is then never sent, one already in a produce request may still be written.
   */
  send(batch: TopicMessages[], signal?: AbortSignal): Promise<void>;
  /** Sends what is queued and waits for it (a flush), then closes; later sends are refused. */
  disconnect(): Promise<void>;
}

/**
 * Most bytes of messages (values, keys, headers) one produce request carries. Kafka
 * refuses a partition's batch over `message.max.bytes` (1 MiB by default) for good: after
 * a stall, the queue merged into one request went over it and failed every caller.
 */
export const MAX_SEND_BYTES = 512 * 1024;
/** A record's own bytes besides its key, value and headers (lengths, offset and time deltas), rounded up. */
const RECORD_OVERHEAD_BYTES = 32;

function bytesOf(batch: readonly TopicMessages[]): number {
  let bytes = 0;
  for (const { messages } of batch) {
    for (const { key, value, headers } of messages) {
      bytes += RECORD_OVERHEAD_BYTES + Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key));
      for (const name in headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(headers[name]!);
    }
  }
  return bytes;
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

/**
 * One idempotent KafkaJS producer at a time, one send in flight, and a new producer after
 * a failed send. KafkaJS numbers each partition's batches itself and rolls the numbers
 * back when a request fails, also when the broker had written it (a timeout, a leader
 * killed before it answered, too few replicas after the append): a concurrent send then
 * takes the rolled-back numbers, and once a send has failed for good its producer's
 * numbers stay behind the broker's. Every later send was refused ("out of order
 * sequence number") until a restart (the kafka-leader-loss drill: ingest answered 503
 * for good after a broker came back), or, when a batch lined up with one the broker
 * remembers, acknowledged as a duplicate without being written. A new producer gets a
 * new producer id, whose numbers start again; what the failed send may have written
 * was not acknowledged, so a re-send is a duplicate the consumers drop by eventId.
 *
 * A send is also failed when KafkaJS resolved it without an answer for a partition its
 * messages went to: when a partition's leader moves during its retries to a broker that
 * had already answered that send, KafkaJS never sends those messages and resolves
 * anyway (tulios/kafkajs#1303; the drill found 473 of 270,387 acknowledged events never
 * written). The partitioner records where the send's messages go. KafkaJS runs it again
 * on each retry of a send, and a message without a key goes round-robin: it keeps the
 * partition it was first given (Kafka's own clients do the same), or a retry would put it
 * on a second partition (written twice) and the first one would count as unanswered.
 *
 * A send carries at most MAX_SEND_BYTES of messages (a single caller's batch goes
 * alone, whatever its size), so the callers queued behind a stalled send go out in
 * several requests once it settles, each under the broker's limit.
 */
export function createProducer(kafka: Kafka, options: { maxSendBytes?: number } = {}): TowerProducer {
  /** `topic:partition` of every message of the send in flight (one at a time). */
  const assigned = new Set<string>();
  /** Where each keyless message was first put (KafkaJS passes the same objects on every retry). */
  const placed = new WeakMap<object, { topic: string; partition: number }>();
  const open = (): Producer =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // Java-compatible murmur2: the same key lands on the same partition as with Kafka's own clients.
      createPartitioner: () => {
        const partitionOf = Partitioners.DefaultPartitioner();
        return (args) => {
          const { topic, message } = args;
          let partition: number;
          if (message.key !== null && message.key !== undefined) partition = partitionOf(args);
          else {
            const first = placed.get(message);
            partition = first?.topic === topic ? first.partition : partitionOf(args);
            if (!first) placed.set(message, { topic, partition });
          }
          assigned.add(`${topic}:${partition}`);
          return partition;
        };
      },
    });
  let producer = open();
  let failed = false;
  const send = async (batches: TopicMessages[][]): Promise<void> => {
    if (failed) {
      // Nothing is in flight on it (one send at a time): its last send has settled.
      const old = producer;
      producer = open();
      await old.disconnect().catch(() => undefined);
      await producer.connect();
      failed = false;
    }
    try {
      assigned.clear();
      const answered = new Set((await producer.sendBatch({ acks: -1, topicMessages: mergeTopicMessages(batches) })).map((written) => `${written.topicName}:${written.partition}`));
      const unanswered = [...assigned].filter((partition) => !answered.has(partition));
      if (unanswered.length > 0) throw new Error(`Kafka acknowledged the send without an answer for ${unanswered.join(', ')}: those messages were not written`);
    } catch (error) {
      failed = true;
      throw error;
    }
  };
  // Sends that arrive while a produce request is in flight share the next request.
  const sender = new Coalescer<TopicMessages[]>(send, { maxInFlight: 1, maxWeight: options.maxSendBytes ?? MAX_SEND_BYTES, weightOf: bytesOf });
  let closing: Promise<void> | undefined;
  return {
    connect: () => producer.connect(),
    send: (batch, signal) => (closing ? Promise.reject(new Error('the Kafka producer is closing: nothing more is sent')) : sender.submit(batch, signal)),
    // After the drain nothing is queued or in flight: `producer` is the last one opened.
    disconnect: () =>
      (closing ??= (async () => {
        await sender.drain();
        await producer.disconnect();
      })()),
  };
}

/** Resolves when the cluster answers a metadata request; for readiness checks. */
export async function pingKafka(admin: Admin): Promise<void> {
  await admin.describeCluster();
}
