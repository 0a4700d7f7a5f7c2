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
  // …and copies the dead letters into ClickHouse (dead_letters) in a group of its own.
  ...topics('User:tower-aggregator', [deadLetter], ['READ']),
  group('User:tower-aggregator', 'tower-aggregator-dead-letters'),
  idempotentProducer('User:tower-aggregator'),
  // live: reads the live topics as a broadcast (one group per instance: tower-live-<feed>-<epoch>), writes alert changes.
  ...topics('User:tower-live', ['tower.throughput.v1', 'tower.journeys.v1', 'tower.alerts.v1', 'tower.slots.v1'], ['READ']),
  group('User:tower-live', 'tower-live-', 'prefixed'),
  ...topics('User:tower-live', ['tower.alerts.v1'], ['WRITE']),
  idempotentProducer('User:tower-live'),
  // slots: writes slot changes (and reads them back for the history and the webhooks), reads trucks for check-ins; groups tower-slots-check-in, -history, -webhooks.
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

const aclKey = (entry: Pick<AclEntry, 'resourceType' | 'resourceName' | 'resourcePatternType' | 'principal' | 'operation' | 'permissionType'>) =>
  [entry.resourceType, entry.resourceName, entry.resourcePatternType, entry.principal, entry.operation, entry.permissionType].join('|');

/** The entries of `wanted` the broker answering `describeAcls` does not know yet. */
async function aclsNotYetInForce(admin: Admin, wanted: readonly AclEntry[]): Promise<AclEntry[]> {
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const known = new Set(
    described.resources.flatMap((resource) =>
      resource.acls.map((acl) => aclKey({ ...acl, resourceType: resource.resourceType, resourceName: resource.resourceName, resourcePatternType: resource.resourcePatternType })),
    ),
  );
  return wanted.filter((entry) => !known.has(aclKey(entry)));
}

/**
 * Creates every ACL of the table (the cluster keeps one copy of an ACL created twice, so
 * this is idempotent) and returns once the brokers' authorizer has them: ACLs travel
 * through the KRaft metadata log, and a client that connects right after `createAcls`
 * answered could still be refused (seen: an idempotent producer's InitProducerId refused
 * with CLUSTER_AUTHORIZATION_FAILED on a fresh broker).
 */
export async function applyServiceAcls(admin: Admin, grants: readonly AclGrant[] = serviceAcls, options: { timeoutMs?: number } = {}): Promise<number> {
  const acl = aclEntries(grants);
  await admin.createAcls({ acl });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1000)) {
    const missing = await aclsNotYetInForce(admin, acl);
    if (missing.length === 0) return acl.length;
    if (Date.now() > deadline) {
      throw new Error(`${missing.length} of ${acl.length} Kafka ACLs were created but are not in force yet, e.g. ${missing[0]?.principal} on ${missing[0]?.resourceName}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
