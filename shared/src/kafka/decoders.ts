import type { IHeaders } from 'kafkajs';
import { DecodeError, type EventCodec } from '../events/avro.ts';
import { MessageDecodeError } from '../events/json-messages.ts';
import type { FamilyName, TowerEvent } from '../events/model.ts';
import type { MessageDecoder } from './batch.ts';

/** One decoded event with where it came from; the coordinates make idempotent sinks possible. */
export interface ConsumedEvent {
  topic: string;
  partition: number;
  /** Kafka offsets are int64; kept as bigint so nothing rounds. */
  offset: bigint;
  /** When the ingest API received the event (ms): the message's CreateTime, set by ingest. */
  ingestedAt: number;
  family: FamilyName;
  schemaVersion: number;
  event: TowerEvent;
}

/**
 * The device events' decoder: each topic carries one family (`families`: topic → family),
 * Avro single-object encoded. What is not (empty, another fingerprint or family, a
 * corrupt body) is undecodable with the codec's reason.
 */
export function eventDecoder(codec: EventCodec, families: Readonly<Record<string, FamilyName>>): MessageDecoder<ConsumedEvent> {
  return (message, topic, partition) => {
    const family = families[topic];
    if (!family) throw new Error(`subscribed to ${topic} without a family`);
    if (!message.value) return { ok: false, reason: 'not-single-object', detail: 'empty message value' };
    try {
      const decoded = codec.decode(message.value, family);
      return { ok: true, value: { topic, partition, offset: BigInt(message.offset), ingestedAt: Number(message.timestamp), family: decoded.family, schemaVersion: decoded.version, event: decoded.event } };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return { ok: false, reason: error.reason, detail: error.message };
    }
  };
}

/** A JSON message of a live topic (ticks, alerts, journey updates, slot changes), decoded, with its coordinates and headers. */
export interface ConsumedMessage<V> {
  topic: string;
  partition: number;
  offset: bigint;
  /** A trace context the producer set travels here. */
  headers: IHeaders;
  value: V;
}

/** The decoder of a JSON topic from its schema checker (`jsonMessageDecoder`); what the schema refuses is undecodable, reason `malformed-message`. */
export function jsonDecoder<V>(decode: (value: Buffer) => V): MessageDecoder<ConsumedMessage<V>> {
  return (message, topic, partition) => {
    try {
      return { ok: true, value: { topic, partition, offset: BigInt(message.offset), headers: message.headers ?? {}, value: decode(message.value ?? Buffer.alloc(0)) } };
    } catch (error) {
      if (!(error instanceof MessageDecodeError)) throw error;
      return { ok: false, reason: 'malformed-message', detail: error.message };
    }
  };
}
