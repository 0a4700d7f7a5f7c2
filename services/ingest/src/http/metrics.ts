import { Counter, Histogram, type Registry } from 'prom-client';

export function createIngestMetrics(registry: Registry) {
  return {
    accepted: new Counter({ name: 'tower_ingest_events_accepted_total', help: 'events acknowledged by Kafka', labelNames: ['family'], registers: [registry] }),
    rejected: new Counter({ name: 'tower_ingest_events_rejected_total', help: 'events refused, by the first field at fault', labelNames: ['field'], registers: [registry] }),
    batches: new Counter({ name: 'tower_ingest_batches_total', help: 'requests to POST /v1/events by outcome', labelNames: ['status'], registers: [registry] }),
    batchSize: new Histogram({ name: 'tower_ingest_batch_events', help: 'events per request', buckets: [1, 10, 50, 100, 250, 500, 1000], registers: [registry] }),
    kafkaLatency: new Histogram({
      name: 'tower_ingest_kafka_ack_seconds',
      help: 'time from send to Kafka acknowledgement (acks=all)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
