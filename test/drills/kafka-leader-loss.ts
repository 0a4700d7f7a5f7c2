/**
 * Drill 1 (issue 17): Kafka leader loss on a 3-node cluster under a steady ingest stream.
 *
 * A 3-node KRaft cluster of the drill's own, configured as `npm run infra:up -- --cluster`
 * (RF 3, `min.insync.replicas=2`), carries the event topics (6 partitions each, as the
 * catalog). Ingest and the aggregator run as processes against it; the stream is HTTP
 * batches to ingest, as devices send them, and every answer is recorded with its times.
 * The broker leading the busiest partitions is SIGKILLed; once ingest answers 2xx again
 * and the cluster has run on two nodes for a while, the leader of the busiest partitions
 * left is SIGKILLed too, so one replica is left in sync: ingest must answer 503 (never a
 * 2xx) until both come back. Then both are restarted and the stream goes on.
 *
 * Verdict: every event ingest answered 2xx for is stored exactly once in ClickHouse
 * (reconciled by event id), no 2xx for a request sent while only one broker lived, every
 * other answer a 503, every consumer group's lag back to 0, every partition's three
 * replicas in sync again; figures say how long ingest was unavailable.
 *
 * What it starts is its own: the cluster (brokers 27480/27482/27484, controllers on the
 * next ports, JMX agents 27486–27488), a Redis on 27489 (ingest's eventId record), ingest
 * on 27490 and the aggregator on 27491; a ClickHouse database with a unique name on the
 * servers it is given (dropped at the end).
 */
import type { Admin, Kafka } from 'kafkajs';
import { EventCodec, createClickHouse, createKafka, identifier, kafkaLoginOf, loadCatalog, type ClickHouseClient, type TowerEvent } from '@tower/shared';
import { sleep, uniqueName } from '@tower/shared/testing/eventually';
import { eventuallyProgressing } from '@tower/shared/testing/progress';
import { standaloneKafkaClusterSpecs, standaloneRedisSpec } from '../../infra/local/servers.ts';
import { killServer, portIsOpen, startServer, stopServer, type ServerSpec } from '../../infra/local/supervisor.ts';
import { ensureDemoCredentials, readDemoCredentials } from '../../infra/provision/credentials.ts';
import { allRawEvents, migrate, queryRows, type AggregatorTopics } from '../../services/aggregator/src/test-support.ts';
import { TrafficSimulation } from '../../services/simulator/src/domain/traffic.ts';
import { adminLogins, baseEnv, startService, stopService, topicEnv, waitReady, type Running } from '../support/service-processes.ts';
import { cleanupSteps, committedLag, type Drill, type DrillContext, type DrillVerdict } from './drill.ts';

const ports = { kafka: 27480, redis: 27489, ingest: 27490, aggregator: 27491 } as const;
/** The stream: `senders` requests in flight at once, each a batch of `batchSize` events of one site's device. */
const senders = 6;
const batchSize = 500;
/** Bounds of the stream, whatever happens. */
const maxEvents = 1_000_000;
const maxStreamMs = 300_000;
/** How long each phase runs once its condition holds: before the first kill, on two brokers, on one, after the restart. */
const warmUpMs = 10_000;
const onTwoBrokersMs = 10_000;
const onOneBrokerMs = 10_000;
const afterRestartMs = 10_000;
/** How long a sender waits after a refusal before its next request. */
const retryMs = 250;
/** What an HTTP request to ingest may take before it counts as unanswered (ingest answers 503 after KAFKA_SEND_TIMEOUT_MS, 10 s). */
const requestTimeoutMs = 30_000;

/** One request to ingest and its answer (status 0: no answer). */
interface Answer {
  sentAt: number;
  doneAt: number;
  status: number;
  events: number;
}

/** Per event topic partition: its leader, replicas in sync, and messages written. */
interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  isr: number[];
  messages: number;
}

async function partitionStates(admin: Admin, topics: readonly string[]): Promise<PartitionState[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  const states: PartitionState[] = [];
  for (const topic of metadata.topics) {
    const ends = await admin.fetchTopicOffsets(topic.name);
    for (const p of topic.partitions) {
      states.push({ topic: topic.name, partition: p.partitionId, leader: p.leader, isr: p.isr, messages: Number(ends.find((e) => e.partition === p.partitionId)?.high ?? 0) });
    }
  }
  return states;
}

/** The broker leading the most messages among `alive`, and how many partitions it leads. */
function busiestLeader(states: readonly PartitionState[], alive: readonly number[]): { node: number; partitions: number; messages: number } {
  const byLeader = new Map<number, { node: number; partitions: number; messages: number }>();
  for (const state of states) {
    if (!alive.includes(state.leader)) continue;
    const entry = byLeader.get(state.leader) ?? { node: state.leader, partitions: 0, messages: 0 };
    entry.partitions += 1;
    entry.messages += state.messages;
    byLeader.set(state.leader, entry);
  }
  const [busiest] = [...byLeader.values()].sort((a, b) => b.messages - a.messages);
  if (!busiest) throw new Error(`no partition is led by a live broker (${alive.join(', ')})`);
  return busiest;
}

/** Seconds covered by the union of the intervals. */
function coveredSeconds(intervals: readonly [number, number][]): number {
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total / 1000;
}

/**
 * Which of `ids` the event topics hold: read from the beginning to their ends now with a
 * group of its own. Tells a loss in Kafka (the producer or the brokers) from one after it
 * (the aggregator).
 */
async function foundInKafka(kafka: Kafka, admin: Admin, topics: readonly string[], ids: ReadonlySet<string>): Promise<number> {
  const codec = new EventCodec();
  const ends = new Map<string, number>();
  for (const topic of topics) for (const end of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${end.partition}`, Number(end.high));
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  let read = 0;
  let found = 0;
  const consumer = kafka.consumer({ groupId: uniqueName('drill-leader-loss-audit') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (Number(message.offset) >= (ends.get(`${topic}:${partition}`) ?? 0)) return;
        read += 1;
        if (message.value && ids.has(codec.decode(message.value).event.eventId)) found += 1;
      },
    });
    await eventuallyProgressing({ what: `the ${total} messages of the event topics`, progress: () => read, until: (n) => (n >= total ? n : undefined) });
  } finally {
    await consumer.disconnect();
  }
  return found;
}

/**
 * Simulated traffic from `start` on, per site, at 200 times the demo's volume (more
 * builds lane queues past what the ingest API accepts), produced on demand (never past
 * now: the ingest API refuses events from the future), so a long stream does not build
 * it up front.
 */
class EventSource {
  private readonly simulation: TrafficSimulation;
  private readonly bySite = new Map<string, TowerEvent[]>();
  private simulatedTo: number;
  taken = 0;

  constructor(start: number) {
    this.simulation = new TrafficSimulation(loadCatalog(), { seed: 17, rate: 200, start });
    this.simulatedTo = start;
  }

  /** Up to `size` events of one site (the one with most waiting), or none when the simulation has caught up with now. */
  next(size: number): { site: string; events: TowerEvent[] } | undefined {
    while (this.waiting() < size * senders && this.simulatedTo < Date.now() - 60_000) {
      this.simulatedTo = Math.min(this.simulatedTo + 60_000, Date.now() - 60_000);
      for (const event of this.simulation.advanceTo(this.simulatedTo)) {
        const queue = this.bySite.get(event.site) ?? [];
        queue.push(event);
        this.bySite.set(event.site, queue);
      }
    }
    const [site, queue] = [...this.bySite].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    if (!site || !queue || queue.length === 0) return undefined;
    const events = queue.splice(0, size);
    this.taken += events.length;
    return { site, events };
  }

  private waiting(): number {
    let n = 0;
    for (const queue of this.bySite.values()) n += queue.length;
    return n;
  }
}

async function run({ infra, logger, progress, workDir }: DrillContext): Promise<DrillVerdict> {
  const findings: string[] = [];
  const cleanups = cleanupSteps(logger);
  try {
    // The cluster, started together (each node is ready once it sees all three); stopped at the end whatever happens.
    const nodes = standaloneKafkaClusterSpecs(workDir, ports.kafka, infra.credentials);
    const nodeSpec = (id: number) => nodes[id - 1]!;
    const startNodes = async (specs: readonly ServerSpec[]) => {
      // Every start is awaited before a failure is thrown, so the clean-up stops them all (none is left starting).
      const started = await Promise.allSettled(specs.map((spec) => startServer(spec)));
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    };
    cleanups.push(() => Promise.all(nodes.map((spec) => stopServer(spec))));
    await startNodes(nodes);
    const redisSpec = standaloneRedisSpec(workDir, ports.redis, infra.credentials);
    cleanups.push(() => stopServer(redisSpec));
    await startServer(redisSpec);
    const brokers = nodes.map((_, i) => `127.0.0.1:${ports.kafka + 2 * i}`);
    progress(`3-node Kafka cluster up (${brokers.join(', ')}), Redis on ${ports.redis}`);

    const kafka = createKafka({ brokers, clientId: uniqueName('drill-leader-loss'), logger, login: kafkaLoginOf(infra) });
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const names = Array.from({ length: 6 }, () => uniqueName('drill_leader'));
    const topics: AggregatorTopics = { events: { truck: names[0]!, container: names[1]!, lane: names[2]! }, deadLetter: names[3]!, throughput: names[4]!, journeys: names[5]! };
    const eventTopics = Object.values(topics.events);
    await admin.createTopics({
      waitForLeaders: true,
      topics: names.map((topic, i) => ({ topic, numPartitions: i < 3 ? 6 : 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] })),
    });

    const database = identifier(uniqueName('drill_leader_loss'));
    const clickhouseSettings = { url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, logger };
    const bootstrap = createClickHouse({ ...clickhouseSettings, database: 'default' });
    cleanups.push(() => bootstrap.close());
    await bootstrap.command({ query: `CREATE DATABASE ${database}` });
    cleanups.push(() => bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` }));
    await migrate({ ...clickhouseSettings, database });
    const clickhouse: ClickHouseClient = createClickHouse({ ...clickhouseSettings, database, requestTimeoutMs: 60_000 });
    cleanups.push(() => clickhouse.close());

    // Ingest and the aggregator as processes, as the administrators (the drill's topics and database are in no service user's grants).
    ensureDemoCredentials(loadCatalog(), workDir);
    const keysBySite = new Map(readDemoCredentials(workDir).devices.map((d) => [d.site, d.apiKey]));
    const env = {
      ...baseEnv(infra, workDir),
      ...adminLogins(infra),
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      CLICKHOUSE_DATABASE: database,
      REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
      REDIS_USERNAME: infra.REDIS_USERNAME,
      REDIS_PASSWORD: infra.REDIS_PASSWORD,
      ...topicEnv(topics),
    };
    const processes: Running[] = [];
    cleanups.push(() => Promise.all(processes.map((running) => stopService(running))));
    for (const port of [ports.ingest, ports.aggregator]) if (await portIsOpen(port)) throw new Error(`port ${port} is taken: another process listens there`);
    const groupId = uniqueName('drill-leader-loss');
    const ingest = startService('ingest', { ...env, DEVICE_RATE_EVENTS_PER_SECOND: '1000000', DEVICE_BURST_EVENTS: '1000000', EVENT_ID_RETENTION_HOURS: '1' }, ports.ingest);
    const aggregator = startService('aggregator', { ...env, CONSUMER_GROUP: groupId }, ports.aggregator);
    processes.push(ingest, aggregator);
    // What a service said (warnings and errors) goes with a failure to get ready.
    const ready = (name: string, running: Running) => waitReady(name, running).catch((error: Error) => Promise.reject(new Error(`${error.message}; its stderr ends: ${running.stderr().slice(-3000)}`)));
    await ready('ingest', ingest);
    await ready('aggregator', aggregator);
    progress(`ingest (${ports.ingest}) and aggregator (${ports.aggregator}) ready; database ${database}`);

    // The stream: every answer recorded, every acknowledged event id kept.
    // Five days back (within the 7 days an event may be late): about 20,000 events an hour of simulated time.
    const source = new EventSource(Date.now() - 5 * 86_400_000);
    const answers: Answer[] = [];
    const acknowledged = new Set<string>();
    const badAnswers: string[] = [];
    let streaming = true;
    const streamStarted = Date.now();
    const sender = async () => {
      while (streaming && source.taken < maxEvents && Date.now() - streamStarted < maxStreamMs) {
        const batch = source.next(batchSize);
        if (!batch) {
          await sleep(100);
          continue;
        }
        const sentAt = Date.now();
        let status = 0;
        try {
          const response = await fetch(`http://127.0.0.1:${ports.ingest}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${keysBySite.get(batch.site) ?? ''}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch.events),
            signal: AbortSignal.timeout(requestTimeoutMs),
          });
          status = response.status;
          const body = (await response.json()) as { rejected?: { index: number }[]; title?: string; detail?: string };
          if (status === 200 || status === 207) {
            const rejected = new Set((body.rejected ?? []).map((r) => r.index));
            batch.events.forEach((event, i) => rejected.has(i) || acknowledged.add(event.eventId));
            if (rejected.size > 0) badAnswers.push(`207: ${rejected.size} events refused (${JSON.stringify(body.rejected?.[0])})`);
          } else if (status !== 503) {
            badAnswers.push(`${status}: ${body.detail ?? body.title ?? ''}`);
          }
        } catch (error) {
          badAnswers.push(`no answer: ${(error as Error).message}`);
        }
        answers.push({ sentAt, doneAt: Date.now(), status, events: batch.events.length });
        // Refused: a device waits before it sends again (a short wait here, to time the recovery closely).
        if (status !== 200 && status !== 207) await sleep(retryMs);
      }
    };
    const stream = Promise.all(Array.from({ length: senders }, sender));
    cleanups.push(async () => {
      streaming = false;
      await stream;
    });
    const ok = (answer: Answer) => answer.status === 200 || answer.status === 207;
    /** Waits (while answers keep coming) for a 2xx to a request sent at or after `since`; its answer time. */
    const firstAcknowledgedSince = (since: number, what: string) =>
      eventuallyProgressing({
        what,
        progress: () => answers.length,
        until: () => answers.find((a) => a.sentAt >= since && ok(a))?.doneAt,
        stallMs: 60_000,
      });
    const holdFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) await sleep(250);
    };

    await firstAcknowledgedSince(streamStarted, 'the first events acknowledged');
    await holdFor(warmUpMs);
    const alive = [1, 2, 3];
    const stateOf = () => partitionStates(admin, eventTopics);

    // Fault 1: the leader of the busiest partitions.
    const first = busiestLeader(await stateOf(), alive);
    await killServer(nodeSpec(first.node));
    const firstKilledAt = Date.now();
    alive.splice(alive.indexOf(first.node), 1);
    progress(`SIGKILLed node ${first.node}, leader of ${first.partitions} of 18 event partitions (${first.messages} messages); ${acknowledged.size} events acknowledged`);
    const firstBackAt = await firstAcknowledgedSince(firstKilledAt, `ingest to acknowledge events again after node ${first.node} was killed`);
    await eventuallyProgressing({ what: 'new leaders for every partition', progress: () => answers.length, until: async () => ((await stateOf()).every((s) => alive.includes(s.leader)) ? true : undefined), stallMs: 60_000 });
    progress(`ingest acknowledges again ${((firstBackAt - firstKilledAt) / 1000).toFixed(1)} s after the kill`);
    await holdFor(onTwoBrokersMs);

    // Fault 2: the leader of the busiest partitions left; one replica in sync, ingest must refuse everything.
    const second = busiestLeader(await stateOf(), alive);
    await killServer(nodeSpec(second.node));
    const secondKilledAt = Date.now();
    alive.splice(alive.indexOf(second.node), 1);
    progress(`SIGKILLed node ${second.node} too, leader of ${second.partitions} partitions: node ${alive[0]} alone; ${acknowledged.size} events acknowledged`);
    await eventuallyProgressing({ what: 'a 503 to a request sent with one broker left', progress: () => answers.length, until: () => (answers.some((a) => a.sentAt >= secondKilledAt && a.status === 503) ? true : undefined), stallMs: 60_000 });
    await holdFor(onOneBrokerMs);
    const restartAt = Date.now();
    await startNodes([nodeSpec(first.node), nodeSpec(second.node)]);
    const restartedAt = Date.now();
    progress(`nodes ${first.node} and ${second.node} restarted in ${((restartedAt - restartAt) / 1000).toFixed(1)} s`);
    const lastBackAt = await firstAcknowledgedSince(restartAt, 'ingest to acknowledge events after the restart');
    const inSyncAt = await eventuallyProgressing({
      what: 'all three replicas of every partition in sync',
      progress: () => answers.length,
      until: async () => ((await stateOf()).every((s) => s.isr.length === 3) ? Date.now() : undefined),
      stallMs: 60_000,
    });
    progress(`ingest acknowledges ${((lastBackAt - restartAt) / 1000).toFixed(1)} s after the restart began; every replica in sync after ${((inSyncAt - restartAt) / 1000).toFixed(1)} s`);
    await holdFor(afterRestartMs);
    streaming = false;
    await stream;
    const streamEndedAt = Date.now();
    const streamSeconds = (streamEndedAt - streamStarted) / 1000;
    const sent = answers.reduce((n, a) => n + a.events, 0);
    const refused = answers.filter((a) => a.status === 503).reduce((n, a) => n + a.events, 0);
    progress(`stream done: ${sent} events sent in ${streamSeconds.toFixed(0)} s, ${acknowledged.size} acknowledged, ${refused} refused (503)`);

    // Everything consumed: every group's committed offsets at the end of its partitions, while rows are stored.
    const groups = async () => (await admin.listGroups()).groups.map((g) => g.groupId);
    const lags = async () => {
      const byGroup = new Map<string, number>();
      for (const group of await groups()) {
        const committed = await admin.fetchOffsets({ groupId: group });
        byGroup.set(group, await committedLag(admin, group, committed.map((c) => c.topic)));
      }
      return byGroup;
    };
    const storedIds = async () => Number((await queryRows<{ n: string }>(clickhouse, `SELECT uniqExact(event_id) AS n FROM ${allRawEvents}`))[0]?.n ?? 0);
    let lagAtEnd = new Map<string, number>();
    await eventuallyProgressing({
      what: 'every consumer group at the end of its partitions',
      progress: storedIds,
      until: async () => {
        lagAtEnd = await lags();
        return lagAtEnd.has(groupId) && [...lagAtEnd.values()].every((lag) => lag === 0) ? true : undefined;
      },
      stallMs: 60_000,
    }).catch((error: Error) => findings.push(error.message));
    const drainedAt = Date.now();

    // Reconciliation by event id.
    const stored = new Map<string, number>();
    for (const row of await queryRows<{ id: string; n: string }>(clickhouse, `SELECT event_id AS id, count() AS n FROM ${allRawEvents} GROUP BY event_id`)) stored.set(row.id, Number(row.n));
    const lost = [...acknowledged].filter((id) => !stored.has(id));
    const twice = [...stored.values()].filter((n) => n > 1).length;
    const storedUnacknowledged = [...stored.keys()].filter((id) => !acknowledged.has(id)).length;

    // The answers while one broker lived: requests sent after the second kill, answered before the restart began.
    const whileOne = answers.filter((a) => a.sentAt >= secondKilledAt && a.doneAt <= restartAt);
    const acknowledgedWhileOne = whileOne.filter(ok);
    const failed = answers.filter((a) => !ok(a));
    const refusals = answers.filter((a) => a.status === 503);
    const firstRefusal = Math.min(...refusals.map((a) => a.sentAt));
    const lastRefusal = Math.max(...refusals.map((a) => a.doneAt));

    if (lost.length > 0) {
      const inKafka = await foundInKafka(kafka, admin, eventTopics, new Set(lost)).catch((error: Error) => `unknown (${error.message})`);
      findings.push(`${lost.length} acknowledged events not stored, ${inKafka} of them in Kafka (e.g. ${lost.slice(0, 3).join(', ')})`);
    }
    if (twice > 0) findings.push(`${twice} events stored more than once`);
    if (acknowledgedWhileOne.length > 0) findings.push(`${acknowledgedWhileOne.length} requests answered 2xx while one broker was left (fewer than min.insync.replicas in sync)`);
    if (!whileOne.some((a) => a.status === 503)) findings.push('no request was answered 503 while one broker was left');
    for (const answer of [...new Set(badAnswers)].slice(0, 5)) findings.push(`ingest answered other than 2xx or 503: ${answer}`);
    for (const [group, lag] of lagAtEnd) if (lag !== 0) findings.push(`consumer group ${group} is ${lag} messages behind at the end`);
    return {
      drill: 'kafka-leader-loss',
      passed: findings.length === 0,
      figures: {
        'events sent': sent,
        'events per second (stream average)': Math.round(sent / streamSeconds),
        'requests (batches of ≤ 500)': answers.length,
        'events acknowledged (2xx)': acknowledged.size,
        'events refused (503)': refused,
        'events stored (distinct ids)': stored.size,
        'acknowledged but not stored (lost)': lost.length,
        'stored more than once': twice,
        'refused but stored (a timed-out write that landed)': storedUnacknowledged,
        'first node killed (leader of partitions)': `${first.node} (${first.partitions})`,
        'second node killed (leader of partitions)': `${second.node} (${second.partitions})`,
        'seconds unavailable after the first kill': Number(((firstBackAt - firstKilledAt) / 1000).toFixed(1)),
        'seconds on one broker (second kill to restart)': Number(((restartAt - secondKilledAt) / 1000).toFixed(1)),
        'requests sent on one broker': whileOne.length,
        '2xx while fewer than 2 in sync': acknowledgedWhileOne.length,
        'seconds to restart both (JVMs started, cluster whole)': Number(((restartedAt - restartAt) / 1000).toFixed(1)),
        'seconds from the cluster whole to the first 2xx': Number((Math.max(0, lastBackAt - restartedAt) / 1000).toFixed(1)),
        'seconds from restart to every replica in sync': Number(((inSyncAt - restartAt) / 1000).toFixed(1)),
        'seconds from the first to the last 503': refusals.length > 0 ? Number(((lastRefusal - firstRefusal) / 1000).toFixed(1)) : 0,
        'seconds ingest unavailable in all (requests failing)': Number(coveredSeconds(failed.map((a) => [a.sentAt, a.doneAt])).toFixed(1)),
        'seconds from the stream end to lag 0': Number(((drainedAt - streamEndedAt) / 1000).toFixed(1)),
        'consumer groups': lagAtEnd.size,
        'lag at the end (messages, all groups)': [...lagAtEnd.values()].reduce((a, b) => a + b, 0),
      },
      findings,
    };
  } finally {
    await cleanups.run();
  }
}

export const kafkaLeaderLoss: Drill = {
  name: 'kafka-leader-loss',
  summary: 'a 3-node Kafka (RF 3, min ISR 2) loses the busiest leader, then a second broker, under ingest: every 2xx stored once, 503 with one replica, lag 0',
  run,
};
