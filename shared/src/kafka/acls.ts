import kafkajs, { type AclEntry, type Admin } from 'kafkajs';

// kafkajs is CommonJS and Node cannot see these enums as named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/**
 * What each service's Kafka principal may do, as code: provisioning (`npm start`,
 * docker-compose's job, the tests) applies this table with `applyServiceAcls`. Brokers
 * run the StandardAuthorizer with allow.everyone.if.no.acl.found=false, so anything not
 * granted here is refused; `tower-admin` is a super user (topics, ACLs, the tests).
 * READ and WRITE imply DESCRIBE. Idempotent producers need IDEMPOTENT_WRITE on the
 * cluster (granted explicitly; Kafka 3+ also accepts WRITE on any topic).
 */
export type KafkaOperation = 'READ' | 'WRITE' | 'DESCRIBE' | 'IDEMPOTENT_WRITE';

export interface AclGrant {
  principal: string;
  resource: 'topic' | 'group' | 'cluster';
  name: string;
  pattern: 'literal' | 'prefixed';
  operations: readonly KafkaOperation[];
}

const topics = (principal: string, names: readonly string[], operations: readonly KafkaOperation[]): AclGrant[] =>
  names.map((name) => ({ principal, resource: 'topic', name, pattern: 'literal', operations }));
const group = (principal: string, name: string, pattern: AclGrant['pattern'] = 'literal'): AclGrant => ({ principal, resource: 'group', name, pattern, operations: ['READ'] });
const idempotentProducer = (principal: string): AclGrant => ({ principal, resource: 'cluster', name: 'kafka-cluster', pattern: 'literal', operations: ['IDEMPOTENT_WRITE'] });

const eventTopics = ['tower.trucks.v1', 'tower.containers.v1', 'tower.lanes.v1'] as const;
const deadLetter = 'tower.deadletter.v1';

export const serviceAcls: readonly AclGrant[] = [
  // ingest: produces device events, nothing else.
  ...topics('User:tower-ingest', eventTopics, ['WRITE']),
  idempotentProducer('User:tower-ingest'),
  // aggregator: consumes the events in its group, produces the live topics and dead letters.
  ...topics('User:tower-aggregator', eventTopics, ['READ']),
  group('User:tower-aggregator', 'tower-aggregator'),
  ...topics('User:tower-aggregator', ['tower.throughput.v1', 'tower.journeys.v1', deadLetter], ['WRITE']),
  idempotentProducer('User:tower-aggregator'),
  // live: reads the live topics as a broadcast (one group per instance: tower-live-<feed>-<epoch>), writes alert changes.
  ...topics('User:tower-live', ['tower.throughput.v1', 'tower.journeys.v1', 'tower.alerts.v1', 'tower.slots.v1'], ['READ']),
  group('User:tower-live', 'tower-live-', 'prefixed'),
  ...topics('User:tower-live', ['tower.alerts.v1'], ['WRITE']),
  idempotentProducer('User:tower-live'),
  // slots: writes slot changes (and reads them back for the history), reads trucks for check-ins.
  ...topics('User:tower-slots', ['tower.slots.v1'], ['WRITE', 'READ']),
  ...topics('User:tower-slots', ['tower.trucks.v1'], ['READ']),
  ...topics('User:tower-slots', [deadLetter], ['WRITE']),
  group('User:tower-slots', 'tower-slots-', 'prefixed'),
  idempotentProducer('User:tower-slots'),
];

const resourceTypes = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP, cluster: AclResourceTypes.CLUSTER } as const;
const operationTypes = {
  READ: AclOperationTypes.READ,
  WRITE: AclOperationTypes.WRITE,
  DESCRIBE: AclOperationTypes.DESCRIBE,
  IDEMPOTENT_WRITE: AclOperationTypes.IDEMPOTENT_WRITE,
} as const;

/** The table as Kafka ACL entries (one per operation, allowed from any host). */
export function aclEntries(grants: readonly AclGrant[]): AclEntry[] {
  return grants.flatMap((grant) =>
    grant.operations.map((operation) => ({
      resourceType: resourceTypes[grant.resource],
      resourceName: grant.name,
      resourcePatternType: grant.pattern === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
      principal: grant.principal,
      host: '*',
      operation: operationTypes[operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

/** Creates every ACL of the table; the cluster keeps one copy of an ACL created twice, so this is idempotent. */
export async function applyServiceAcls(admin: Admin, grants: readonly AclGrant[] = serviceAcls): Promise<number> {
  const acl = aclEntries(grants);
  await admin.createAcls({ acl });
  return acl.length;
}
