import type { Admin, ITopicConfig } from 'kafkajs';

/**
 * The declarative catalog of every Kafka topic the control tower uses. `npm start`,
 * the test harness and docker-compose's init job all apply it with
 * `applyTopicCatalog`; nothing else creates topics (brokers run with
 * auto.create.topics.enable=false). Replication comes from the environment
 * (1 on a single node, 3 on a cluster), everything else from here.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** -1 keeps messages forever. */
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** What the message key is; it decides ordering (one key, one partition, in order). */
  key: string;
  description: string;
}

const day = 24 * 60 * 60 * 1000;

export const topicCatalog: readonly TopicSpec[] = [
  {
    name: 'tower.trucks.v1',
    partitions: 6,
    retentionMs: 7 * day,
    cleanupPolicy: 'delete',
    key: 'truck plate',
    description: 'Truck journey steps: arrival, plate read, weighing, scan, customs, gate-in, border line, gate-out',
  },
  {
    name: 'tower.containers.v1',
    partitions: 6,
    retentionMs: 7 * day,
    cleanupPolicy: 'delete',
    key: 'ISO 6346 container number',
    description: 'Container moves at Vạn Ninh port: discharge, load, yard move, gate-in/out, customs status',
  },
  {
    name: 'tower.lanes.v1',
    partitions: 6,
    retentionMs: 7 * day,
    cleanupPolicy: 'delete',
    key: 'site/lane',
    description: 'Lane state: opened, closed, congested, fault, cleared, queue length samples, IGV positions',
  },
  {
    name: 'tower.deadletter.v1',
    partitions: 3,
    retentionMs: 30 * day,
    cleanupPolicy: 'delete',
    key: 'the source message’s key (its topic, partition and offset are the dlq.source.* headers)',
    description: 'Messages no consumer could decode or process, with the reason, for inspection and replay',
  },
  {
    name: 'tower.throughput.v1',
    partitions: 3,
    retentionMs: 1 * day,
    cleanupPolicy: 'delete',
    key: 'site/lane',
    description: 'Live throughput ticks from the aggregator, consumed as a broadcast by every live gateway',
  },
  {
    name: 'tower.journeys.v1',
    partitions: 3,
    retentionMs: 1 * day,
    cleanupPolicy: 'delete',
    key: 'truck plate',
    description: 'Live journey updates from the aggregator (a truck journey as it stands after stored events), consumed as a broadcast by every live gateway',
  },
  {
    name: 'tower.alerts.v1',
    partitions: 3,
    retentionMs: 30 * day,
    cleanupPolicy: 'delete',
    key: 'alert id',
    description: 'Alert lifecycle changes: raised, acknowledged, cleared',
  },
  {
    name: 'tower.slots.v1',
    partitions: 3,
    retentionMs: 30 * day,
    cleanupPolicy: 'delete',
    key: 'booking id (booking changes), site|lane kind|direction|window start (places)',
    description: 'Crossing-slot booking state changes and availability',
  },
];

export interface TopicPolicy {
  replicationFactor: number;
  minInsyncReplicas: number;
}

export type TopicAction =
  | { topic: string; action: 'created' }
  | { topic: string; action: 'unchanged' }
  | { topic: string; action: 'reconfigured'; changes: string[] }
  | { topic: string; action: 'partitions-added'; from: number; to: number }
  | { topic: string; action: 'warning'; message: string };

function desiredConfig(spec: TopicSpec, policy: TopicPolicy): Record<string, string> {
  return {
    'retention.ms': String(spec.retentionMs),
    'cleanup.policy': spec.cleanupPolicy,
    'min.insync.replicas': String(Math.min(policy.minInsyncReplicas, policy.replicationFactor)),
  };
}

/**
 * Creates topics and waits until every partition has a leader. KafkaJS's own
 * `waitForLeaders` gives up when a broker that has not yet heard of a new topic answers
 * the metadata request with UNKNOWN_TOPIC_OR_PARTITION (seen on a fresh cluster); this
 * keeps asking until `timeoutMs`, then names the topics still without leaders.
 */
export async function createTopicsReady(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  let waitingFor = names;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      waitingFor = names.filter((name) => {
        const partitions = metadata.topics.find((t) => t.name === name)?.partitions ?? [];
        return partitions.length === 0 || partitions.some((p) => p.leader < 0);
      });
      if (waitingFor.length === 0) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`topics without a leader after ${timeoutMs} ms: ${waitingFor.join(', ')}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

const topicResource = 2; // kafkajs ConfigResourceTypes.TOPIC

/**
 * Makes the cluster match the catalog, idempotently: creates missing topics, resets
 * drifted configs (the catalog owns retention, cleanup policy and min.insync.replicas),
 * adds partitions when the catalog has more. It never deletes a topic or removes
 * partitions (Kafka cannot); such drift is returned as a warning.
 */
export async function applyTopicCatalog(admin: Admin, catalog: readonly TopicSpec[], policy: TopicPolicy): Promise<TopicAction[]> {
  const existing = new Set(await admin.listTopics());
  const missing = catalog.filter((t) => !existing.has(t.name));
  const actions: TopicAction[] = [];
  if (missing.length > 0) {
    await createTopicsReady(
      admin,
      missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: policy.replicationFactor,
        configEntries: Object.entries(desiredConfig(spec, policy)).map(([name, value]) => ({ name, value })),
      })),
    );
    actions.push(...missing.map((t) => ({ topic: t.name, action: 'created' as const })));
  }
  const present = catalog.filter((t) => existing.has(t.name));
  if (present.length === 0) return actions;

  const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((t) => ({ type: topicResource, name: t.name, configNames: Object.keys(desiredConfig(t, policy)) })),
  });
  for (const spec of present) {
    const want = desiredConfig(spec, policy);
    const have = configs.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
    const changes = Object.entries(want)
      .filter(([name, value]) => have.find((e) => e.configName === name)?.configValue !== value)
      .map(([name, value]) => `${name}=${value}`);
    if (changes.length > 0) {
      // AlterConfigs replaces the topic's dynamic config as a whole: send every key we own.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: topicResource, name: spec.name, configEntries: Object.entries(want).map(([name, value]) => ({ name, value })) }],
      });
      actions.push({ topic: spec.name, action: 'reconfigured', changes });
    }
    const partitions = metadata.topics.find((t) => t.name === spec.name)?.partitions ?? [];
    const replicas = partitions[0]?.replicas.length ?? 0;
    if (partitions.length < spec.partitions) {
      await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
      actions.push({ topic: spec.name, action: 'partitions-added', from: partitions.length, to: spec.partitions });
    } else if (partitions.length > spec.partitions) {
      actions.push({ topic: spec.name, action: 'warning', message: `has ${partitions.length} partitions, the catalog says ${spec.partitions}; Kafka cannot remove partitions` });
    }
    if (replicas !== policy.replicationFactor) {
      actions.push({ topic: spec.name, action: 'warning', message: `has replication factor ${replicas}, the policy says ${policy.replicationFactor}; reassign partitions to change it` });
    }
    if (changes.length === 0 && partitions.length === spec.partitions && replicas === policy.replicationFactor) {
      actions.push({ topic: spec.name, action: 'unchanged' });
    }
  }
  return actions;
}
