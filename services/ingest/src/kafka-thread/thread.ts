/**
 * The Kafka thread: KafkaJS and its record encoding (batches, CRC, compression framing)
 * run here, off the HTTP thread's event loop. One TowerProducer (one idempotent
 * producer, one send in flight, replaced after a failed send: shared/src/kafka/client.ts)
 * takes every request's batch; each is answered `acked` only once Kafka acknowledged all
 * its records, `failed` otherwise. An `abort` withdraws a batch still queued (never
 * written), as the caller's own AbortSignal does in one thread. `close` flushes and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, createLogger, createProducer } from '@tower/shared';
import { unpackBatch, type FromKafkaThread, type KafkaThreadSettings, type ToKafkaThread } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('kafka-thread/thread.ts runs as a worker thread (KafkaThreadProducer starts it)');
const settings = workerData as KafkaThreadSettings;
const logger = createLogger({ service: settings.service, level: settings.logLevel }).child({ thread: 'kafka' });
const producer = createProducer(createKafka({ brokers: settings.brokers, clientId: settings.clientId, logger, retries: settings.retries, login: settings.login }));
const giveUp = new Map<number, AbortController>();
const answer = (message: FromKafkaThread) => port.postMessage(message);

port.on('message', (message: ToKafkaThread) => {
  if (message.kind === 'send') {
    const { id } = message;
    const controller = new AbortController();
    giveUp.set(id, controller);
    producer.send(unpackBatch(message.batch), controller.signal).then(
      () => answer({ kind: 'acked', id }),
      (error: unknown) => answer({ kind: 'failed', id, message: error instanceof Error ? error.message : String(error) }),
    ).finally(() => giveUp.delete(id));
  } else if (message.kind === 'abort') {
    giveUp.get(message.id)?.abort(new Error('the caller gave up'));
  } else {
    // Every batch taken is sent and answered before `closed` (the producer's flush).
    void producer.disconnect().then(
      () => answer({ kind: 'closed' }),
      (error: unknown) => {
        logger.error({ err: error }, 'the Kafka producer did not close cleanly');
        answer({ kind: 'closed' });
      },
    ).finally(() => port.close());
  }
});

producer.connect().then(
  () => answer({ kind: 'ready' }),
  (error: unknown) => {
    answer({ kind: 'unusable', message: `the Kafka producer did not connect: ${error instanceof Error ? error.message : String(error)}` });
    port.close();
  },
);
