import { describe, expect } from 'vitest';
import { test, uniqueName } from '../testing/fixtures.ts';
import { applyTopicCatalog, topicCatalog, type TopicSpec } from './topic-catalog.ts';

describe('topic catalog (real broker)', () => {
  test('creates, leaves alone, reconfigures and grows topics idempotently', async ({ admin, infra }) => {
    const policy = { replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR), minInsyncReplicas: Number(infra.KAFKA_MIN_INSYNC_REPLICAS) };
    const catalog: TopicSpec[] = [
      { name: uniqueName('cat_a'), partitions: 2, retentionMs: 3_600_000, cleanupPolicy: 'delete', key: 'k', description: 'a' },
      { name: uniqueName('cat_b'), partitions: 1, retentionMs: -1, cleanupPolicy: 'compact', key: 'k', description: 'b' },
    ];
    try {
      expect((await applyTopicCatalog(admin, catalog, policy)).map((a) => a.action)).toEqual(['created', 'created']);
      expect((await applyTopicCatalog(admin, catalog, policy)).map((a) => a.action)).toEqual(['unchanged', 'unchanged']);

      const changed = [{ ...catalog[0]!, retentionMs: 7_200_000, partitions: 4 }, catalog[1]!];
      const actions = await applyTopicCatalog(admin, changed, policy);
      expect(actions).toEqual([
        { topic: catalog[0]!.name, action: 'reconfigured', changes: ['retention.ms=7200000'] },
        { topic: catalog[0]!.name, action: 'partitions-added', from: 2, to: 4 },
        { topic: catalog[1]!.name, action: 'unchanged' },
      ]);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: catalog[0]!.name, configNames: ['retention.ms', 'cleanup.policy'] }] });
      expect(Object.fromEntries(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))).toEqual({ 'retention.ms': '7200000', 'cleanup.policy': 'delete' });
      const shrunk = await applyTopicCatalog(admin, [{ ...changed[0]!, partitions: 1 }], policy);
      expect(shrunk).toContainEqual(expect.objectContaining({ action: 'warning', message: expect.stringContaining('cannot remove partitions') }));
    } finally {
      await admin.deleteTopics({ topics: catalog.map((t) => t.name) });
    }
  });

  test('the product catalog has unique, versioned topic names', () => {
    const names = topicCatalog.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^tower\.[a-z]+\.v\d+$/);
  });
});
