/**
 * Drill 3 (issue 17): a live gateway instance SIGKILLed with walls connected.
 *
 * Two gateways (`services/live` as processes) read the ticks of one aggregator (a process
 * too) fed with simulated traffic in real time; walls, each the wall display's own
 * `LiveClient` (reconnect with backoff, resume by seq, fresh snapshot on a gap) over a
 * socket of the `ws` package, subscribe to the zone's throughput and alerts, spread over
 * both instances. The instance leading alert evaluation is SIGKILLed just after it renewed
 * its lead (the longest handover), traffic goes on, a lane fault is raised after the kill.
 * Verdict: every wall reconnects, every stream it had was replayed (`resumed`) or
 * restarted by a snapshot flagged `resync`, no delta was skipped unflagged, the survivor
 * takes the lead within the lease and raises the new alert, and at the end each wall's
 * chart (its last 60 minutes of trucks and containers) and alert panel equal what the
 * history API gives for the same range.
 *
 * What it starts is its own: a Redis on 27420 (the alert lead and open alerts of these
 * two gateways only), the gateways on 27421 and 27422, the aggregator on 27423, topics
 * and a ClickHouse database with unique names (dropped at the end); it only adds topics,
 * a database and clients to the servers it is given.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { applyMigrations, createClickHouse, createKafka, createProducer, createRedis, createTopicsReady, identifier, kafkaLoginOf, loadCatalog, loadMigrations, type LaneEvent } from '@tower/shared';
import { eventually, sleep, uniqueName } from '@tower/shared/testing/eventually';
import { eventuallyProgressing } from '@tower/shared/testing/progress';
import { standaloneRedisSpec } from '../../infra/local/servers.ts';
import { startServer, stopServer } from '../../infra/local/supervisor.ts';
import { ensureDemoCredentials, readDemoCredentials } from '../../infra/provision/credentials.ts';
import { eventMessages, migrationsDirectory, storedCounts, type AggregatorTopics } from '../../services/aggregator/src/test-support.ts';
import { TrafficSimulation } from '../../services/simulator/src/domain/traffic.ts';
import type { Alert } from '../../services/live/src/domain/alerts.ts';
import { liveSubprotocol, type ServerMessage, type ThroughputSnapshotData } from '../../services/live/src/domain/protocol.ts';
import { LiveClient, type SocketLike } from '../../services/live/wall/src/live-client.ts';
import { AlertPanel, ThroughputChartModel } from '../../services/live/wall/src/state.ts';
import { adminLogins, baseEnv, startService, stopService, topicEnv, waitReady, type Running } from '../support/service-processes.ts';
import { cleanupSteps, type Drill, type DrillContext, type DrillVerdict } from './drill.ts';

const ports = { redis: 27420, gateways: [27421, 27422], aggregator: 27423 } as const;
const walls = 8;
/** Short enough for a drill, the ratio of the defaults (15 s lease, renewed every 5 s). */
const leaseMs = 9000;
const evaluateMs = 3000;
/** What the survivor's timers may be late by on a busy machine, over the lease. */
const handoverSlackMs = 1000;
/** Traffic before the kill and after it. */
const trafficBeforeMs = 15_000;
const trafficAfterMs = 20_000;
/** Walls whose connection to the survivor is cut after the kill (they resume there). */
const wallsCut = 2;
const faultLanes = { beforeKill: 'bl2-smart-ex-2', afterKill: 'bl2-smart-ex-3' } as const;

/** What a history API request may take before it counts as not answering. */
const requestTimeoutMs = 10_000;

/** The `ws` package's socket as the browser's, which the wall's client is written against. */
class WallSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onmessage: SocketLike['onmessage'] = null;
  private readonly socket: WebSocket;

  constructor(url: string, token: string, observe: (message: ServerMessage) => void) {
    this.socket = new WebSocket(url, [liveSubprotocol, `token.${token}`]);
    const self = this as unknown as globalThis.WebSocket;
    this.socket.on('open', () => this.onopen?.call(self, new Event('open')));
    this.socket.on('message', (data) => {
      const text = String(data);
      observe(JSON.parse(text) as ServerMessage);
      this.onmessage?.call(self, { data: text } as MessageEvent);
    });
    this.socket.on('close', (code) => this.onclose?.call(self, { code, reason: '' } as Parameters<NonNullable<SocketLike['onclose']>>[0]));
    // A refused connection (the killed instance) closes with 1006 after this: the client reconnects.
    this.socket.on('error', () => undefined);
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (typeof data !== 'string') throw new Error('the wall sends text frames only');
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** The connection lost without a close handshake (a network cut): the client sees 1006. */
  cut(): void {
    this.socket.terminate();
  }
}

/** One wall: the wall's client and models, and what its socket carried. */
class Wall {
  readonly chart = new ThroughputChartModel();
  readonly alerts = new AlertPanel();
  readonly client: LiveClient;
  /** Per subscription: the stream and last seq seen on the socket. */
  private readonly seen = new Map<string, { stream: string; seq: number }>();
  /** Subscriptions not yet answered (snapshot or resumed) since the socket (re)opened. */
  private readonly waiting = new Set<string>();
  private next: number;
  private socket: WallSocket | undefined;
  /** The instance it is connected to, or last tried. */
  url = '';
  lost = 0;
  reconnects = 0;
  resyncs = 0;
  replayed = 0;
  deltas = 0;
  /** Deltas whose seq did not follow the last one of their stream: a gap nobody flagged. */
  gaps: string[] = [];
  lostAt: number | undefined;
  recoveredAt: number | undefined;

  constructor(
    readonly name: string,
    first: number,
    urls: readonly string[],
    token: string,
  ) {
    this.next = first;
    this.client = new LiveClient({
      // Each (re)connection goes to the next instance: after a loss, another one.
      openSocket: () => {
        this.url = urls[this.next++ % urls.length]!;
        this.socket = new WallSocket(this.url, token, (message) => this.observe(message));
        return this.socket;
      },
      onState: (state) => {
        if (state === 'lost') {
          this.lost += 1;
          this.lostAt ??= Date.now();
          this.recoveredAt = undefined;
        }
        if (state === 'live') {
          if (this.lostAt !== undefined) this.reconnects += 1;
          for (const id of ['zone', 'alerts']) this.waiting.add(id);
        }
      },
    });
    this.client.subscribe({ id: 'zone', channel: 'throughput', filter: {}, onSnapshot: (data) => this.chart.reset(data as ThroughputSnapshotData), onDelta: (data) => this.chart.apply(data as Parameters<ThroughputChartModel['apply']>[0]) });
    this.client.subscribe({ id: 'alerts', channel: 'alerts', filter: {}, onSnapshot: (data) => this.alerts.reset((data as { alerts: Alert[] }).alerts), onDelta: (data) => this.alerts.apply(data as Alert) });
  }

  /** Cuts its connection (the gateway stays up): it reconnects and resumes. */
  cut(): void {
    this.lostAt = undefined;
    this.recoveredAt = undefined;
    this.socket?.cut();
  }

  get ready(): boolean {
    return this.seen.size === 2 && this.waiting.size === 0;
  }

  private observe(message: ServerMessage): void {
    if (message.type === 'snapshot') {
      if (message.resync) this.resyncs += 1;
      this.seen.set(message.id, { stream: message.stream, seq: message.seq });
      this.answered(message.id);
    } else if (message.type === 'resumed') {
      this.replayed += 1;
      this.answered(message.id);
    } else if (message.type === 'delta') {
      const position = this.seen.get(message.id);
      if (!position) return;
      if (message.seq !== position.seq + 1 && message.seq > position.seq) this.gaps.push(`${this.name}/${message.id}: seq ${position.seq} then ${message.seq}`);
      position.seq = Math.max(position.seq, message.seq);
      this.deltas += 1;
    }
  }

  private answered(id: string): void {
    this.waiting.delete(id);
    if (this.lostAt !== undefined && this.waiting.size === 0) this.recoveredAt ??= Date.now();
  }
}

interface Series {
  trucks: number[];
  containers: number[];
}

/** The differences between a wall's chart and the history API's buckets, minute by minute. */
function differences(wall: Wall, history: Series, chart: [number[], number[], number[]]): string[] {
  const [times, trucks, containers] = chart;
  const found: string[] = [];
  times.forEach((seconds, i) => {
    const at = new Date(seconds * 1000).toISOString().slice(11, 16);
    if (trucks[i] !== history.trucks[i]) found.push(`${wall.name} ${at}: ${trucks[i]} trucks, history ${history.trucks[i]}`);
    if (containers[i] !== history.containers[i]) found.push(`${wall.name} ${at}: ${containers[i]} containers, history ${history.containers[i]}`);
  });
  return found;
}

const alertLines = (alerts: readonly Alert[]) => alerts.map((a) => `${a.id} r${a.revision} ${a.state} ${a.cause}`).sort();

async function run({ infra, logger, progress, workDir }: DrillContext): Promise<DrillVerdict> {
  const findings: string[] = [];
  const catalog = loadCatalog();
  const cleanups = cleanupSteps(logger);
  try {
    // Servers and names of the drill's own.
    const redisSpec = standaloneRedisSpec(workDir, ports.redis, infra.credentials);
    await startServer(redisSpec);
    cleanups.push(() => stopServer(redisSpec));
    const redisUrl = `redis://127.0.0.1:${ports.redis}`;
    const redis = createRedis(redisUrl, { connectionName: 'drill-gateway-kill', logger, username: infra.REDIS_USERNAME, password: infra.REDIS_PASSWORD });
    await redis.connect();
    cleanups.push(async () => redis.disconnect());

    const kafka = createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('drill-gateway-kill'), logger, login: kafkaLoginOf(infra) });
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const topic = (partitions: number) => ({ topic: uniqueName('drill_gw'), numPartitions: partitions, replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR) });
    const specs = { truck: topic(3), container: topic(3), lane: topic(3), deadLetter: topic(1), throughput: topic(1), journeys: topic(1), alerts: topic(1), slots: topic(1) };
    await createTopicsReady(admin, Object.values(specs));
    cleanups.push(() => admin.deleteTopics({ topics: Object.values(specs).map((s) => s.topic) }));
    const topics: AggregatorTopics = { events: { truck: specs.truck.topic, container: specs.container.topic, lane: specs.lane.topic }, deadLetter: specs.deadLetter.topic, throughput: specs.throughput.topic, journeys: specs.journeys.topic };

    const database = identifier(uniqueName('drill_gateway_kill'));
    const clickhouseSettings = { url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, logger };
    const bootstrap = createClickHouse({ ...clickhouseSettings, database: 'default' });
    await bootstrap.command({ query: `CREATE DATABASE ${database}` });
    cleanups.push(async () => {
      await bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await bootstrap.close();
    });
    await applyMigrations({ ...clickhouseSettings, database }, loadMigrations(migrationsDirectory));
    const clickhouse = createClickHouse({ ...clickhouseSettings, database });
    cleanups.push(() => clickhouse.close());
    ensureDemoCredentials(catalog, workDir);
    const token = readDemoCredentials(workDir).access.find((a) => a.role === 'display')!.token;

    // The services, as the administrators (the drill's topics and database are not in their users' grants).
    const env = {
      ...baseEnv(infra, workDir),
      ...adminLogins(infra),
      CLICKHOUSE_DATABASE: database,
      REDIS_URL: redisUrl,
      REDIS_USERNAME: infra.REDIS_USERNAME,
      REDIS_PASSWORD: infra.REDIS_PASSWORD,
      ...topicEnv(topics),
      TOPIC_ALERTS: specs.alerts.topic,
      TOPIC_SLOTS: specs.slots.topic,
    };
    const processes: Running[] = [];
    cleanups.push(() => Promise.all(processes.map((running) => stopService(running))));
    const aggregator = startService('aggregator', { ...env, CONSUMER_GROUP: uniqueName('drill-gateway-kill') }, ports.aggregator);
    processes.push(aggregator);
    const gatewayEnv = { ...env, ALERT_LEASE_MS: String(leaseMs), ALERT_EVALUATE_MS: String(evaluateMs), KPI_REFRESH_MS: '1000' };
    const gateways = ports.gateways.map((port) => startService('live', gatewayEnv, port));
    processes.push(...gateways);
    await waitReady('aggregator', aggregator);
    for (const gateway of gateways) await waitReady('live', gateway);
    progress(`aggregator and two gateways ready (${ports.gateways.join(', ')}); database ${database}`);

    // Traffic: the simulation in real time, produced as ingest writes it.
    const producer = createProducer(kafka);
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const simulation = new TrafficSimulation(catalog, { seed: 17, rate: 400, start: Date.now() - 60_000 });
    let sent = 0;
    const send = async (events: Parameters<typeof eventMessages>[1]) => {
      if (events.length === 0) return;
      await producer.send(eventMessages(topics, events));
      sent += events.length;
    };
    let trafficUntil = Number.POSITIVE_INFINITY;
    // A failed send ends the traffic and is a finding; the producer is disconnected only after it ended.
    let trafficError: Error | undefined;
    const traffic = (async () => {
      // Bounded: at most 10 minutes, whatever happens.
      const stopAt = Date.now() + 600_000;
      while (Date.now() < Math.min(trafficUntil, stopAt)) {
        await send(simulation.advanceTo(Date.now()));
        await sleep(250);
      }
    })().catch((error: Error) => void (trafficError = error));
    cleanups.push(async () => {
      trafficUntil = 0;
      await traffic;
    });
    const fault = (lane: string): LaneEvent => ({ eventId: randomUUID(), type: 'lane.fault', site: catalog.lane(lane)!.site.id, lane, observedAt: Date.now(), source: 'drill', faultCode: 'DRILL' }) as LaneEvent;

    const urls = ports.gateways.map((port) => `ws://127.0.0.1:${port}/v1/live`);
    const wallList = Array.from({ length: walls }, (_, i) => new Wall(`wall-${i + 1}`, i, urls, token));
    for (const wall of wallList) wall.client.start();
    cleanups.push(async () => wallList.forEach((wall) => wall.client.stop()));
    await eventually(async () => (wallList.every((wall) => wall.ready && wall.deltas > 0) ? true : undefined), { timeoutMs: 120_000, what: 'every wall to have its snapshots and deltas' });
    progress(`${walls} walls live, ${sent} events sent`);

    // An alert raised by the first leader, seen on every wall.
    await send([fault(faultLanes.beforeKill)]);
    const hasAlertFor = (wall: Wall, lane: string) => wall.alerts.list().some((a) => a.lane === lane && a.state !== 'cleared');
    await eventually(async () => (wallList.every((wall) => hasAlertFor(wall, faultLanes.beforeKill)) ? true : undefined), { timeoutMs: 120_000, what: `the alert of ${faultLanes.beforeKill} on every wall` });
    const trafficStarted = Date.now();
    while (Date.now() - trafficStarted < trafficBeforeMs) await sleep(250);

    // The leader, killed just after it renewed its lead: the survivor waits the longest.
    const holderOf = (running: Running) => new RegExp(`-${running.child.pid}-`);
    const leader = await eventually(async () => {
      const holder = await redis.get('alerts:leader');
      return holder ? gateways.find((g) => holderOf(g).test(holder)) : undefined;
    }, { timeoutMs: 60_000, what: 'a gateway leading alert evaluation' });
    const survivor = gateways.find((g) => g !== leader)!;
    await eventually(async () => ((await redis.pttl('alerts:leader')) > leaseMs - 300 ? true : undefined), { timeoutMs: 60_000, what: 'the leader to renew its lead' });
    const deltasBefore = wallList.reduce((n, wall) => n + wall.deltas, 0);
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    progress(`SIGKILLed the leading gateway (port ${leader.port}); ${sent} events sent`);
    const handedOverAt = await eventually(async () => {
      const holder = await redis.get('alerts:leader');
      return holder && holderOf(survivor).test(holder) ? Date.now() : undefined;
    }, { timeoutMs: leaseMs * 3 + 30_000, what: 'the survivor to lead alert evaluation' });
    const handoverSeconds = (handedOverAt - killedAt) / 1000;
    progress(`the survivor leads after ${handoverSeconds.toFixed(1)} s (lease ${leaseMs / 1000} s)`);
    if (handedOverAt - killedAt > leaseMs + handoverSlackMs) findings.push(`alert leadership moved after ${handoverSeconds.toFixed(1)} s, over the ${leaseMs / 1000} s lease (+${handoverSlackMs / 1000} s slack)`);

    // A new cause after the kill: only the survivor can raise it.
    await send([fault(faultLanes.afterKill)]);
    await eventually(async () => (wallList.every((wall) => (wall.ready && wall.lostAt === undefined) || wall.recoveredAt !== undefined) ? true : undefined), { timeoutMs: 120_000, what: 'every wall to reconnect' });
    const recoveredAt = Math.max(...wallList.map((wall) => wall.recoveredAt ?? killedAt));
    const cutOffByKill = wallList.filter((wall) => wall.lost > 0).length;
    progress(`every wall back ${((recoveredAt - killedAt) / 1000).toFixed(1)} s after the kill`);
    // A network cut with the gateway up: those walls come back to the survivor (after trying the dead one) and resume.
    const survivorUrl = `ws://127.0.0.1:${survivor.port}/v1/live`;
    const cut = wallList.filter((wall) => wall.url === survivorUrl).slice(0, wallsCut);
    for (const wall of cut) wall.cut();
    await eventually(async () => (cut.every((wall) => wall.recoveredAt !== undefined) ? true : undefined), { timeoutMs: 120_000, what: 'the cut walls to reconnect' });
    progress(`${cut.length} walls cut from the survivor are back: ${wallList.reduce((n, wall) => n + wall.replayed, 0)} streams resumed`);
    await eventually(async () => (wallList.every((wall) => hasAlertFor(wall, faultLanes.afterKill)) ? true : undefined), { timeoutMs: 120_000, what: `the survivor's alert of ${faultLanes.afterKill} on every wall` });
    while (Date.now() - killedAt < trafficAfterMs) await sleep(250);
    trafficUntil = 0;
    await traffic;
    if (trafficError) findings.push(`the traffic stopped after ${sent} events: ${trafficError.message}`);
    const deltasAfter = wallList.reduce((n, wall) => n + wall.deltas, 0) - deltasBefore;
    progress(`traffic stopped: ${sent} events sent; ${deltasAfter} deltas reached the walls after the kill`);

    // Everything stored and aggregated, then every wall equal to the history API.
    let stored = { raw: 0, aggregated: 0 };
    await eventuallyProgressing({
      what: `${sent} events stored and aggregated`,
      progress: async () => {
        stored = await storedCounts(clickhouse);
        return stored.raw + stored.aggregated;
      },
      until: () => (stored.raw >= sent && stored.aggregated >= sent ? true : undefined),
      monotone: true,
    }).catch((error: Error) => findings.push(error.message));
    progress(`${stored.raw} of ${sent} events stored, ${stored.aggregated} aggregated`);
    const read = async <T>(route: string): Promise<T> => {
      const response = await fetch(`http://127.0.0.1:${survivor.port}${route}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(requestTimeoutMs) });
      if (!response.ok) throw new Error(`GET ${route}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    // The walls' figures against the history API's: the differences must go to none. Their count can
    // oscillate while nothing advances, so the progress is what the walls received and ClickHouse aggregated.
    let comparison = { mismatches: ['not compared yet'], trucks: 0, alerts: 0 };
    const compare = async () => {
      const now = Date.now();
      const charts = wallList.map((wall) => wall.chart.series(now));
      const [times] = charts[0]!;
      const series = await read<{ buckets: { trucksCrossed: number; containersMoved: number }[] }>(`/v1/throughput?step=1m&from=${times[0]! * 1000}&to=${times[times.length - 1]! * 1000 + 60_000}`);
      const history = { trucks: series.buckets.map((b) => b.trucksCrossed), containers: series.buckets.map((b) => b.containersMoved) };
      const alerts = alertLines((await read<{ alerts: Alert[] }>('/v1/alerts')).alerts);
      const mismatches = wallList.flatMap((wall, i) => [
        ...differences(wall, history, charts[i]!),
        ...(JSON.stringify(alertLines(wall.alerts.list())) === JSON.stringify(alerts) ? [] : [`${wall.name} alerts: ${alertLines(wall.alerts.list()).join(', ')}; history: ${alerts.join(', ')}`]),
      ]);
      comparison = { mismatches, trucks: history.trucks.reduce((a, b) => a + b, 0), alerts: alerts.length };
      return mismatches.length;
    };
    await eventuallyProgressing({
      what: 'every wall to equal the history API',
      progress: async () => wallList.reduce((n, wall) => n + wall.deltas, 0) + (await storedCounts(clickhouse)).aggregated,
      until: async () => ((await compare()) === 0 ? true : undefined),
      monotone: true,
      // Ticks reach the walls every second whatever happens: the cap ends a difference that stays.
      capMs: 180_000,
      intervalMs: 250,
    }).catch(() => undefined);
    const { mismatches } = comparison;
    progress(`walls against the history API: ${mismatches.length} differences`);
    if (mismatches.length > 0) findings.push(`walls differ from the history API: ${mismatches.slice(0, 10).join('; ')}${mismatches.length > 10 ? ` (and ${mismatches.length - 10} more)` : ''}`);

    const gaps = wallList.flatMap((wall) => wall.gaps);
    if (gaps.length > 0) findings.push(`deltas skipped without a resync: ${gaps.slice(0, 10).join('; ')}`);
    const hit = wallList.filter((wall) => wall.lost > 0);
    if (cutOffByKill === 0) findings.push('no wall lost its connection: the kill hit nobody');
    if (stored.raw !== sent || stored.aggregated !== sent) findings.push(`${sent} events sent, ${stored.raw} stored, ${stored.aggregated} aggregated`);
    const streamsRestarted = hit.length * 2;
    const flagged = wallList.reduce((n, wall) => n + wall.resyncs + wall.replayed, 0);
    if (flagged < streamsRestarted) findings.push(`${streamsRestarted} streams of reconnected walls, ${flagged} resumed or flagged resync`);
    const replayed = wallList.reduce((n, wall) => n + wall.replayed, 0);
    if (replayed < cut.length * 2) findings.push(`${cut.length} walls cut from a gateway that stayed up, ${replayed} of their ${cut.length * 2} streams resumed (the rest restarted from a snapshot)`);
    return {
      drill: 'gateway-kill',
      passed: findings.length === 0,
      figures: {
        walls,
        'walls cut off by the kill': cutOffByKill,
        'walls cut from the survivor (network)': cut.length,
        reconnects: wallList.reduce((n, wall) => n + wall.reconnects, 0),
        'streams resumed (replayed)': replayed,
        'streams resynced (flagged snapshot)': wallList.reduce((n, wall) => n + wall.resyncs, 0),
        'deltas applied': wallList.reduce((n, wall) => n + wall.deltas, 0),
        'deltas after the kill': deltasAfter,
        'deltas skipped unflagged': gaps.length,
        'seconds until every wall was back': Number(((recoveredAt - killedAt) / 1000).toFixed(1)),
        'alert lease, seconds': leaseMs / 1000,
        'leadership handover, seconds': Number(handoverSeconds.toFixed(1)),
        'events sent': sent,
        'events stored': stored.raw,
        'trucks in the last hour (history API)': comparison.trucks,
        'alerts (history API)': comparison.alerts,
        'walls equal to the history API': wallList.filter((wall) => !mismatches.some((m) => m.startsWith(`${wall.name} `))).length,
      },
      findings,
    };
  } finally {
    await cleanups.run();
  }
}

export const gatewayKill: Drill = {
  name: 'gateway-kill',
  summary: 'a live gateway SIGKILLed with walls connected: walls reconnect and equal the history API, no delta lost unflagged, alert lead moves within the lease',
  run,
};
