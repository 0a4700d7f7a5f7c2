import type { Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName } from './fixtures.ts';
import { atLeast, eventuallyProgressing } from './progress.ts';

export interface ReadMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** Reads `topics` from the beginning with a group of its own until `count` messages came (as long as they keep coming), then leaves. */
export async function readTopics(kafka: Kafka, topics: string[], count: number): Promise<ReadMessage[]> {
  const read: ReadMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('read') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ topic, partition, message }) => void read.push({ topic, partition, message }) });
    await eventuallyProgressing({ what: `${count} messages on ${topics.join(', ')}`, progress: () => read.length, until: atLeast(count) });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
