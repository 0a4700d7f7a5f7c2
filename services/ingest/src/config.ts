import { env, familyTopics, kafkaEnv, logEnv, redisEnv } from '@tower/shared';
import { tracingEnv } from '@tower/shared/tracing';

export const ingestEnv = {
  PORT: env.port({ default: 8081, description: 'HTTP port' }),
  HOST: env.string({ default: '127.0.0.1', description: 'address to listen on' }),
  ...kafkaEnv,
  ...redisEnv,
  ...logEnv,
  ...tracingEnv,
  DEVICES_FILE: env.string({ default: '.local/devices.json', description: 'device registry (ids, sites, SHA-256 of keys), written by npm start / provision' }),
  DEVICES_RELOAD_MS: env.integer({ default: 2000, min: 100, max: 600_000, description: 'how often the device registry file is checked for changes (added or disabled devices take effect without a restart)' }),
  CATALOG_FILE: env.string({ default: 'seeds/site-catalog.json', description: 'site catalog' }),
  TOPIC_TRUCKS: env.string({ default: familyTopics.truck, description: 'topic of truck events (the aggregator reads the same)' }),
  TOPIC_CONTAINERS: env.string({ default: familyTopics.container, description: 'topic of container events' }),
  TOPIC_LANES: env.string({ default: familyTopics.lane, description: 'topic of lane events' }),
  MAX_BATCH_EVENTS: env.integer({ default: 1000, min: 1, max: 10_000, description: 'events per request' }),
  BODY_LIMIT_BYTES: env.integer({ default: 4 * 1024 * 1024, min: 1024, max: 64 * 1024 * 1024, description: 'request body limit; larger is 413' }),
  DEVICE_RATE_EVENTS_PER_SECOND: env.integer({ default: 2000, min: 1, description: 'sustained events per second per device; more is 429' }),
  DEVICE_BURST_EVENTS: env.integer({ default: 10_000, min: 1, description: 'burst of events per device' }),
  EVENT_ID_RETENTION_HOURS: env.integer({
    default: 168,
    min: 1,
    max: 24 * 90,
    description: 'how long an eventId stays bound to its first content (Redis); another content under the id is refused. At least as long as devices retry; the default is the 7 days an event may be late',
  }),
  KAFKA_PRODUCER_THREAD: env.boolean({
    default: true,
    description: 'run the Kafka producer (KafkaJS and its record encoding) in a worker thread, so it uses a second core beside the HTTP thread; false keeps it on the HTTP thread',
  }),
  KAFKA_SEND_TIMEOUT_MS: env.integer({ default: 10_000, min: 100, max: 120_000, description: 'longest wait for Kafka to acknowledge a batch before answering 503' }),
};
