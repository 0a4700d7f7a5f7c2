import type { Kafka, KafkaMessage } from 'kafkajs';
import { eventually, uniqueName } from './fixtures.ts';

export interface ReadMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Reads `topics` from the beginning with a group of its own until `count` messages came (generous deadline), then leaves. */
export async function readTopics(kafka: Kafka, topics: string[], count: number, timeoutMs = 30_000): Promise<ReadMessage[]> {
  const read: ReadMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('read') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, partition, message }) => void read.push({ topic, partition, message }) });
    await eventually(async () => (read.length >= count ? true : undefined), { what: `${count} messages on ${topics.join(', ')}`, timeoutMs });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
