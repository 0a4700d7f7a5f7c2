import { describe, expect, test } from 'vitest';
import { familyTopics, loadConfig, serviceAcls, topicCatalog, type AclGrant, type KafkaOperation } from '@tower/shared';
import { aggregatorEnv } from '../../services/aggregator/src/config.ts';
import { liveEnv } from '../../services/live/src/config.ts';
import { slotsEnv, webhookSettingsOf } from '../../services/slots/src/config.ts';
import { kafkaPrincipals, serviceIdentities } from '../local/infra-credentials.ts';

/** Does the table let `principal` do `operation` on the resource? READ and WRITE imply DESCRIBE, as in Kafka. */
function allowed(principal: string, resource: AclGrant['resource'], name: string, operation: KafkaOperation, grants: readonly AclGrant[] = serviceAcls): boolean {
  return grants.some(
    (g) =>
      g.principal === `User:${principal}` &&
      g.resource === resource &&
      (g.pattern === 'literal' ? g.name === name : name.startsWith(g.name)) &&
      (g.operations.includes(operation) || (operation === 'DESCRIBE' && (g.operations.includes('READ') || g.operations.includes('WRITE')))),
  );
}

/** The topics a service's config names by default (its TOPIC_* variables). */
const configuredTopics = (schema: Parameters<typeof loadConfig>[0]) =>
  Object.entries(loadConfig(schema, {}))
    .filter(([name]) => name.startsWith('TOPIC_'))
    .map(([name, value]) => ({ name, topic: value as string }));

describe('Kafka ACLs of the services', () => {
  test('every principal in the table is one the servers know, and every service with a Kafka login has grants', () => {
    const known = new Set(kafkaPrincipals.map((p) => `User:${p}`));
    expect(serviceAcls.filter((g) => !known.has(g.principal))).toEqual([]);
    for (const [service, identity] of Object.entries(serviceIdentities)) {
      if (identity.kafka) expect(serviceAcls.some((g) => g.principal === `User:${identity.kafka}`), service).toBe(true);
    }
  });

  test('every topic of the catalog has a writer and, but for the dead letters (kept for people), a reader', () => {
    for (const { name } of topicCatalog) {
      expect(kafkaPrincipals.some((p) => allowed(p, 'topic', name, 'WRITE')), `${name} writer`).toBe(true);
      if (name !== 'tower.deadletter.v1') expect(kafkaPrincipals.some((p) => allowed(p, 'topic', name, 'READ')), `${name} reader`).toBe(true);
    }
    const granted = new Set(serviceAcls.filter((g) => g.resource === 'topic').map((g) => g.name));
    expect([...granted].filter((name) => !topicCatalog.some((t) => t.name === name))).toEqual([]);
  });

  test('ingest produces to the event topics and reads nothing', () => {
    for (const topic of Object.values(familyTopics)) expect(allowed('tower-ingest', 'topic', topic, 'WRITE'), topic).toBe(true);
    expect(serviceAcls.filter((g) => g.principal === 'User:tower-ingest' && g.operations.includes('READ'))).toEqual([]);
    expect(allowed('tower-ingest', 'topic', 'tower.throughput.v1', 'WRITE')).toBe(false);
    expect(allowed('tower-ingest', 'cluster', 'kafka-cluster', 'IDEMPOTENT_WRITE')).toBe(true);
  });

  test('the aggregator reads the event topics in its group and writes the live topics and dead letters', () => {
    const config = loadConfig(aggregatorEnv, {});
    for (const { name, topic } of configuredTopics(aggregatorEnv)) {
      const operation = ['TOPIC_TRUCKS', 'TOPIC_CONTAINERS', 'TOPIC_LANES'].includes(name) ? 'READ' : 'WRITE';
      expect(allowed('tower-aggregator', 'topic', topic, operation), `${name}=${topic}`).toBe(true);
    }
    expect(allowed('tower-aggregator', 'group', config.CONSUMER_GROUP, 'READ')).toBe(true);
    expect(allowed('tower-aggregator', 'topic', 'tower.alerts.v1', 'WRITE')).toBe(false);
  });

  test('the live gateway reads the live topics in its per-instance groups and writes only alerts', () => {
    for (const { name, topic } of configuredTopics(liveEnv)) expect(allowed('tower-live', 'topic', topic, 'READ'), `${name}=${topic}`).toBe(true);
    for (const group of ['tower-live-ticks-host-1-abc', 'tower-live-alerts-host-1-abc', 'tower-live-journeys-host-1-abc', 'tower-live-slots-host-1-abc']) {
      expect(allowed('tower-live', 'group', group, 'READ'), group).toBe(true);
    }
    const writes = serviceAcls.filter((g) => g.principal === 'User:tower-live' && g.resource === 'topic' && g.operations.includes('WRITE')).map((g) => g.name);
    expect(writes).toEqual([loadConfig(liveEnv, {}).TOPIC_ALERTS]);
    expect(allowed('tower-live', 'group', 'tower-aggregator', 'READ')).toBe(false);
  });

  test('slots writes and reads its topic, reads trucks for check-ins, writes dead letters, in its own groups', () => {
    const config = loadConfig(slotsEnv, {});
    expect(allowed('tower-slots', 'topic', config.TOPIC_SLOTS, 'WRITE')).toBe(true);
    expect(allowed('tower-slots', 'topic', config.TOPIC_SLOTS, 'READ')).toBe(true);
    expect(allowed('tower-slots', 'topic', config.TOPIC_TRUCKS, 'READ')).toBe(true);
    expect(allowed('tower-slots', 'topic', config.TOPIC_TRUCKS, 'WRITE')).toBe(false);
    expect(allowed('tower-slots', 'topic', config.TOPIC_DEADLETTER, 'WRITE')).toBe(true);
    for (const group of ['tower-slots-check-in', 'tower-slots-history', webhookSettingsOf(config).groupId]) expect(allowed('tower-slots', 'group', group, 'READ'), group).toBe(true);
  });
});
