/**
 * The Kafka thread, ended when a batch for a topic named `crash…` (exit code 3) or
 * `throw…` (an uncaught error) arrives: how a test kills it with sends held.
 */
import { parentPort } from 'node:worker_threads';
import type { ToKafkaThread } from './protocol.ts';
import './thread.ts';

parentPort?.on('message', (message: ToKafkaThread) => {
  if (message.kind !== 'send') return;
  const topics = message.batch.topics.map(({ topic }) => topic);
  if (topics.some((topic) => topic.startsWith('crash'))) process.exit(3);
  if (topics.some((topic) => topic.startsWith('throw'))) throw new Error('the test ends the Kafka thread');
});
