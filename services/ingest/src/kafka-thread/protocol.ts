import type { KafkaLogin, OutgoingMessage, TopicMessages } from '@tower/shared';

/**
 * What the HTTP thread and the Kafka thread say to each other. A request's records
 * cross as one packed batch: every value in one ArrayBuffer that is transferred (moved,
 * not copied), keys, timestamps and headers beside it. A Buffer from the encoder is a
 * view of Node's shared 8 KiB pool, and posting a view copies its whole backing buffer:
 * one per record would copy the pool per record.
 */
export interface PackedBatch {
  topics: { topic: string; count: number }[];
  keys: (string | Uint8Array | null)[];
  /** Where each value ends in `values` (it starts where the one before ended). */
  ends: Uint32Array;
  values: ArrayBuffer;
  timestamps: (string | undefined)[];
  headers: (Record<string, string | Uint8Array> | undefined)[];
}

export interface KafkaThreadSettings {
  brokers: string[];
  clientId: string;
  login: KafkaLogin | undefined;
  retries: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Which service's logs these are. */
  service: string;
}

export type ToKafkaThread = { kind: 'send'; id: number; batch: PackedBatch } | { kind: 'abort'; id: number } | { kind: 'close' };

export type FromKafkaThread = { kind: 'ready' } | { kind: 'unusable'; message: string } | { kind: 'acked'; id: number } | { kind: 'failed'; id: number; message: string } | { kind: 'closed' };

/** A Buffer that is its own copy (a view of the pool would carry the pool across). */
const own = (bytes: Buffer | string): string | Uint8Array => (typeof bytes === 'string' ? bytes : new Uint8Array(bytes));

export function packBatch(batch: readonly TopicMessages[]): PackedBatch {
  let count = 0;
  let bytes = 0;
  for (const { messages } of batch) {
    count += messages.length;
    for (const { value } of messages) bytes += Buffer.byteLength(value);
  }
  const values = new ArrayBuffer(bytes);
  const into = Buffer.from(values);
  const packed: PackedBatch = { topics: [], keys: [], ends: new Uint32Array(count), values, timestamps: [], headers: [] };
  let at = 0;
  let index = 0;
  for (const { topic, messages } of batch) {
    packed.topics.push({ topic, count: messages.length });
    for (const { key, value, timestamp, headers } of messages) {
      at += typeof value === 'string' ? into.write(value, at) : value.copy(into, at);
      packed.ends[index++] = at;
      packed.keys.push(key === null ? null : own(key));
      packed.timestamps.push(timestamp);
      packed.headers.push(headers && ownHeaders(headers));
    }
  }
  return packed;
}

/**
 * Headers with each value converted, once per headers object: a request's records usually
 * share one, and the copy (and the clone across the threads) keeps them one.
 */
function headersConverter<From, To>(convert: (value: From) => To): (headers: Record<string, From>) => Record<string, To> {
  const converted = new WeakMap<object, Record<string, To>>();
  return (headers) => {
    let copy = converted.get(headers);
    if (!copy) {
      copy = {};
      for (const name in headers) copy[name] = convert(headers[name]!);
      converted.set(headers, copy);
    }
    return copy;
  };
}
const ownHeaders = headersConverter<string | Buffer, string | Uint8Array>(own);

const asBuffer = (bytes: string | Uint8Array): string | Buffer => (typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export function unpackBatch(packed: PackedBatch): TopicMessages[] {
  const batch: TopicMessages[] = [];
  let index = 0;
  let start = 0;
  for (const { topic, count } of packed.topics) {
    const messages: OutgoingMessage[] = [];
    for (let i = 0; i < count; i++, index++) {
      const end = packed.ends[index]!;
      const key = packed.keys[index]!;
      const headers = packed.headers[index];
      const timestamp = packed.timestamps[index];
      messages.push({
        key: key === null ? null : asBuffer(key),
        value: Buffer.from(packed.values, start, end - start),
        ...(timestamp === undefined ? {} : { timestamp }),
        ...(headers ? { headers: unpackedHeaders(headers) } : {}),
      });
      start = end;
    }
    batch.push({ topic, messages });
  }
  return batch;
}

const unpackedHeaders = headersConverter<string | Uint8Array, string | Buffer>(asBuffer);
