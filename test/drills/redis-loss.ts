/**
 * Drill 6: Redis lost (SIGKILL) together with a live gateway, then, in a second round,
 * together with the gateway and the slots service (the host they share lost). Redis
 * runs on this drill's own port with the project's configuration (append-only file
 * fsync'd before each answer); slots and two live gateways (A and B) run as processes
 * logged in to it as their own Redis users, on topics and a ClickHouse database of this
 * run only. Firms hold, confirm and cancel bookings throughout; lane faults open alerts,
 * an operator acknowledges half of them before the faults and the rest during them.
 * The verdict: every booking in the state its last 2xx answer gave, no window over its
 * capacity and no truck booked twice in a window, every open alert back under its id
 * with its acknowledgement (and who), no cause raised twice, and every answer given
 * while Redis was down a 503 problem+json (never a 2xx).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import WebSocket from 'ws';
import { createClickHouse, createKafka, createRedis, createTopicsReady, kafkaLoginOf, loadCatalog, loadConfig, selectRows, sql, type LaneEvent } from '@tower/shared';
import { eventually, sleep, uniqueName } from '@tower/shared/testing/eventually';
// Not @tower/shared/testing's index: it loads vitest's fixtures, and `npm run drill` runs outside vitest.
import { eventuallyProgressing } from '../../shared/src/testing/progress.ts';
import { standaloneRedisSpec } from '../../infra/local/servers.ts';
import { inspectServer, portIsOpen, startServer, stopServer } from '../../infra/local/supervisor.ts';
import { credentialEnv } from '../../infra/local/infra-credentials.ts';
import { readDemoCredentials } from '../../infra/provision/credentials.ts';
import { provision, provisionEnv } from '../../infra/provision/provision.ts';
import { EventStore } from '../../services/aggregator/src/store.ts';
import { storeSeeded } from '../../services/aggregator/src/test-support.ts';
import { registerFleet } from '../../services/slots/src/test-support.ts';
import { adminLogins, baseEnv, exited, startService, waitReady, type Running } from '../support/service-processes.ts';
import { liveSubprotocol } from '../../services/live/src/domain/protocol.ts';
import type { Drill, DrillContext, DrillVerdict } from './drill.ts';

/** K6's ports (27460–27479): Redis, slots, gateways A and B. */
const ports = { redis: 27460, slots: 27461, gatewayA: 27462, gatewayB: 27463 } as const;
const windowMs = 30 * 60_000;
const windowCount = 6;
const capacity = 10;
const faultedLanes = 6;
/** Booking load: bounded in count and in time. */
const maxBookings = 3000;
const maxLoadMs = 240_000;
const workers = 6;
/** Answers from a service while Redis is away before it comes back (progress, not a clock). */
const outageAnswers = 20;
const requestTimeoutMs = 20_000;
const seconds = (from: number, to: number) => Number(((to - from) / 1000).toFixed(1));

type Target = 'slots' | 'gateway-b' | 'gateway-a';

/** One HTTP answer (status 0: no answer, the connection was refused or dropped). */
interface Answer {
  target: Target;
  what: string;
  sentAt: number;
  at: number;
  status: number;
  problem: boolean;
  body: Record<string, unknown>;
}

interface Outage {
  round: number;
  killedAt: number;
  /** When Redis was being started again: an answer given before this had no Redis behind it. */
  redisStartedAt: number;
  /** When the killed services answered their readiness again. */
  servicesReadyAt: number;
}

interface BookingState {
  id: string;
  firm: string;
  token: string;
  windowStart: number;
  plate: string;
  /** The state the last 2xx answer for it gave; undefined while an operation is not settled. */
  acknowledged: string | undefined;
  /** That answer (its status and when), for the findings. */
  answer?: Answer;
}

interface AlertSeen {
  id: string;
  cause: string;
  state: string;
  acknowledgedBy?: string | null;
  acknowledgedByName?: string | null;
  revision: number;
}

/** Everything the drill sent and heard. */
class Ledger {
  readonly answers: Answer[] = [];
  readonly bookings = new Map<string, BookingState>();
  readonly acknowledgedAlerts = new Map<string, AlertSeen>();
  settled = 0;
  refusedFull = 0;
  unsettled = 0;

  async call(target: Target, url: string, what: string, init: { method?: string; token: string; body?: unknown; headers?: Record<string, string> }): Promise<Answer> {
    const sentAt = Date.now();
    let answer: Answer;
    try {
      const response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${init.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      answer = {
        target,
        what,
        sentAt,
        at: Date.now(),
        status: response.status,
        problem: (response.headers.get('content-type') ?? '').startsWith('application/problem+json'),
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    } catch {
      answer = { target, what, sentAt, at: Date.now(), status: 0, problem: false, body: {} };
    }
    this.answers.push(answer);
    return answer;
  }
}

/** The `alerts` snapshot a wall display gets when it subscribes on the gateway at `port`. */
async function wallAlerts(port: number, token: string): Promise<AlertSeen[]> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/live?token=${encodeURIComponent(token)}`, [liveSubprotocol]);
  try {
    return await new Promise<AlertSeen[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no alerts snapshot within 60 s')), 60_000);
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', id: 'alerts', channel: 'alerts', filter: { site: 'bac-luan-2' } })));
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as { type: string; id?: string; data?: { alerts: AlertSeen[] } };
        if (message.id !== 'alerts' || (message.type !== 'snapshot' && message.type !== 'error')) return;
        clearTimeout(timer);
        if (message.type === 'snapshot' && message.data) resolve(message.data.alerts);
        else reject(new Error(`alerts subscription refused: ${data.toString()}`));
      });
    });
  } finally {
    socket.close();
  }
}

/** A request sent again, as a client would (same Idempotency-Key), while the answer is 503 or none. */
async function persist(send: () => Promise<Answer>, stopAt: number): Promise<Answer | undefined> {
  while (Date.now() < stopAt) {
    const answer = await send();
    if (answer.status !== 503 && answer.status !== 0) return answer;
    await sleep(100);
  }
  return undefined;
}

const outcomeState = (answer: Answer | undefined, expected: string): string | undefined => {
  if (!answer) return undefined;
  if (answer.status >= 200 && answer.status < 300) return String(answer.body['state']);
  // An answer lost with the crash: the retry finds the change already made.
  const booking = answer.body['booking'] as { state?: string } | undefined;
  return answer.status === 409 && booking?.state === expected ? expected : undefined;
};

export const redisLoss: Drill = {
  name: 'redis-loss',
  summary: 'Redis SIGKILLed with a live gateway, then with the gateway and slots, under bookings and alert acknowledgements: every acknowledged booking and alert back from the AOF, no double booking, 503s (never a 2xx) while Redis is away',
  async run({ infra, logger, progress, workDir }: DrillContext): Promise<DrillVerdict> {
    const findings: string[] = [];
    const catalog = loadCatalog();
    const redisSpec = standaloneRedisSpec(workDir, ports.redis, infra.credentials);
    await startServer(redisSpec);
    const database = uniqueName('drill_redis');
    const topics = { TOPIC_SLOTS: uniqueName('drill-slots'), TOPIC_ALERTS: uniqueName('drill-alerts'), TOPIC_TRUCKS: uniqueName('drill-trucks'), TOPIC_DEADLETTER: uniqueName('drill-dead'), TOPIC_THROUGHPUT: uniqueName('drill-ticks'), TOPIC_JOURNEYS: uniqueName('drill-journeys') };
    const kafka = createKafka({ brokers: infra.KAFKA_BROKERS.split(','), clientId: uniqueName('drill-redis-loss'), logger, login: kafkaLoginOf(infra) });
    const admin = kafka.admin();
    await admin.connect();
    const clickhouse = createClickHouse({ url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database, logger });
    const redisAdmin = createRedis(`redis://127.0.0.1:${ports.redis}`, { connectionName: 'drill-redis-loss', logger, username: infra.REDIS_USERNAME, password: infra.REDIS_PASSWORD });
    const running = new Map<Target, Running>();
    try {
      // The schema in a database of this run, the demo tokens in workDir; topics of this run (nobody else's messages, nobody else reads ours).
      await provision(loadConfig(provisionEnv, { ...baseEnv(infra, workDir), ...adminLogins(infra), CLICKHOUSE_DATABASE: database, CREDENTIALS_DIR: workDir }), logger);
      await createTopicsReady(admin, Object.values(topics).map((topic) => ({ topic, numPartitions: 3, replicationFactor: Number(infra.KAFKA_REPLICATION_FACTOR) })));
      const demo = readDemoCredentials(workDir);
      const tokenOf = (id: string) => demo.access.find((a) => a.id === id)?.token ?? '';
      const tokens = { operator: tokenOf('operator-1'), display: tokenOf('wall-1'), firms: [{ firm: 'haiha-logistics', token: tokenOf('haiha-1') }, { firm: 'donghung-trade', token: tokenOf('donghung-1') }] };

      // Kafka and ClickHouse as the administrator (this run's topics and database); Redis as each service's own user.
      const common = { ...baseEnv(infra, workDir), ...adminLogins(infra), ...topics, CLICKHOUSE_DATABASE: database, REDIS_URL: `redis://127.0.0.1:${ports.redis}`, CATALOG_FILE: path.resolve(import.meta.dirname, '../../seeds/site-catalog.json') };
      const envOf: Record<Target, Record<string, string>> = {
        slots: { ...common, ...credentialEnv(infra.credentials, { redis: 'tower-slots' }), CONSUMER_GROUP_PREFIX: uniqueName('tower-slots-drill'), FIRM_CAP_PER_WINDOW: '1000', RATE_PER_SECOND: '100000', RATE_BURST: '100000', OUTBOX_RELAY_MS: '500' },
        'gateway-a': { ...common, ...credentialEnv(infra.credentials, { redis: 'tower-live' }), ALERT_EVALUATE_MS: '500', ALERT_LEASE_MS: '2000', KPI_REFRESH_MS: '250' },
        'gateway-b': { ...common, ...credentialEnv(infra.credentials, { redis: 'tower-live' }), ALERT_EVALUATE_MS: '500', ALERT_LEASE_MS: '2000', KPI_REFRESH_MS: '250' },
      };
      const portOf: Record<Target, number> = { slots: ports.slots, 'gateway-a': ports.gatewayA, 'gateway-b': ports.gatewayB };
      const url = (target: Target, route: string) => `http://127.0.0.1:${portOf[target]}${route}`;
      const start = async (...targets: Target[]) => {
        // A process left on a port (a run killed before its clean-up) would answer for the one started here.
        for (const target of targets) if (await portIsOpen(portOf[target])) throw new Error(`port ${portOf[target]} (${target}) is taken: another process listens there`);
        for (const target of targets) running.set(target, startService(target.startsWith('gateway') ? 'live' : 'slots', envOf[target], portOf[target]));
        await Promise.all(targets.map((target) => waitReady(target, running.get(target)!)));
      };
      await start('slots', 'gateway-a', 'gateway-b');
      progress('Redis, slots and gateways A and B up');

      // Windows six hours ahead on Bắc Luân II's smart export lanes, with a small capacity so they fill.
      const ledger = new Ledger();
      const first = Math.ceil((Date.now() + 6 * 3_600_000) / windowMs) * windowMs;
      const windows = Array.from({ length: windowCount }, (_, i) => ({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: first + i * windowMs }));
      for (const window of windows) {
        const answer = await ledger.call('slots', url('slots', '/v1/windows'), 'set capacity', { method: 'PUT', token: tokens.operator, body: { ...window, capacity } });
        if (answer.status !== 200) throw new Error(`PUT /v1/windows: ${answer.status} ${JSON.stringify(answer.body)}`);
      }

      // Lane faults stored as the aggregator stores them: the leading gateway raises one critical alert per lane.
      const lanes = catalog.document.sites.find((s) => s.id === 'bac-luan-2')?.lanes.slice(0, faultedLanes) ?? [];
      const faults = lanes.map((lane, i): LaneEvent => ({ eventId: randomUUID(), type: 'lane.fault', site: 'bac-luan-2', lane: lane.id, observedAt: Date.now() - 60_000, source: 'drill', faultCode: `DRILL-${i}` }) as LaneEvent);
      await storeSeeded(
        new EventStore(clickhouse),
        faults.map((event, i) => ({ consumed: { topic: topics.TOPIC_TRUCKS, partition: 0, offset: BigInt(i), ingestedAt: Date.now(), family: 'lane', schemaVersion: 1, event } })),
      );
      const causes = new Set(lanes.map((lane) => `lane-fault:bac-luan-2/${lane.id}`));
      const listAlerts = async (target: Target) => {
        const answer = await ledger.call(target, url(target, '/v1/alerts?site=bac-luan-2'), 'list alerts', { token: tokens.display });
        return answer.status === 200 ? (answer.body['alerts'] as AlertSeen[]).filter((a) => causes.has(a.cause)) : undefined;
      };
      const raised = await eventually(async () => {
        const open = await listAlerts('gateway-b');
        return open && open.length === causes.size ? open : undefined;
      }, { timeoutMs: 120_000, what: `${causes.size} lane-fault alerts raised` });
      progress(`${raised.length} alerts open`);
      const acknowledge = (target: Target, alert: AlertSeen) => ledger.call(target, url(target, `/v1/alerts/${alert.id}/acknowledge`), 'acknowledge', { method: 'POST', token: tokens.operator });
      const recordAck = (answer: Answer | undefined) => {
        if (answer?.status === 200) ledger.acknowledgedAlerts.set(String(answer.body['id']), answer.body as unknown as AlertSeen);
      };
      const [before, during] = [raised.slice(0, raised.length / 2), raised.slice(raised.length / 2)];
      for (const alert of before) recordAck(await acknowledge('gateway-a', alert));
      if (ledger.acknowledgedAlerts.size !== before.length) findings.push(`only ${ledger.acknowledgedAlerts.size} of ${before.length} acknowledgements answered 200 before the faults`);

      // The firms' load: hold, confirm, and cancel one in three; each step retried through 503s with the same key.
      // Booking n is firm n % 2's, of plate n: each firm's trucks in its fleet first, before the load and the faults.
      const plateOf = (n: number) => `14C-${String(n).padStart(5, '0').slice(0, 3)}.${String(n).padStart(5, '0').slice(3)}`;
      for (const [i, { token }] of tokens.firms.entries()) {
        await registerFleet(url('slots', ''), token, Array.from({ length: maxBookings + 1 }, (_, n) => n).filter((n) => n % 2 === i).map(plateOf));
      }
      progress(`${maxBookings} trucks in the firms' fleets`);
      const loadStarted = Date.now();
      let stopping = false;
      let sequence = 0;
      const worker = async () => {
        while (!stopping && sequence < maxBookings && Date.now() - loadStarted < maxLoadMs) {
          const n = (sequence += 1);
          const { firm, token } = tokens.firms[n % 2]!;
          const window = windows[n % windows.length]!;
          const plate = plateOf(n);
          const stopAt = Date.now() + maxLoadMs;
          const key = `drill-${n}-${randomBytes(4).toString('hex')}`;
          const held = await persist(() => ledger.call('slots', url('slots', '/v1/bookings'), 'hold', { method: 'POST', token, headers: { 'idempotency-key': key }, body: { ...window, plate, cargoClass: 'textiles' } }), stopAt);
          if (held?.status === 409 && held.body['rule'] === 'window-full') {
            ledger.refusedFull += 1;
            ledger.settled += 1;
            continue;
          }
          if (!held || (held.status !== 200 && held.status !== 201)) {
            if (held) findings.push(`hold ${n}: ${held.status} ${JSON.stringify(held.body)}`);
            ledger.unsettled += 1;
            continue;
          }
          const booking: BookingState = { id: String(held.body['id']), firm, token, windowStart: window.windowStart, plate, acknowledged: 'held' };
          ledger.bookings.set(booking.id, booking);
          const steps: [string, string, string][] = [[`/v1/bookings/${booking.id}/confirm`, 'POST', 'confirmed']];
          if (n % 3 === 0) steps.push([`/v1/bookings/${booking.id}`, 'DELETE', 'cancelled']);
          for (const [route, method, expected] of steps) {
            booking.acknowledged = undefined;
            const answer = await persist(() => ledger.call('slots', url('slots', route), expected, { method, token }), stopAt);
            const state = outcomeState(answer, expected);
            if (state !== expected) {
              ledger.unsettled += 1;
              findings.push(`booking ${booking.id}: ${expected} not settled (${state ?? 'no answer'})`);
              break;
            }
            booking.acknowledged = state;
            booking.answer = answer;
          }
          ledger.settled += 1;
        }
      };
      const load = Promise.all(Array.from({ length: workers }, worker));
      // A wall reading the alerts on gateway B, which lives through both rounds, and a firm reading availability: what was unavailable and for how long.
      const availability = url('slots', `/v1/slots?site=bac-luan-2&laneKind=smart&direction=export&from=${first}&to=${first + windowCount * windowMs}`);
      const reading = (async () => {
        while (!stopping) {
          await Promise.all([listAlerts('gateway-b'), ledger.call('slots', availability, 'availability', { token: tokens.firms[0]!.token })]);
          await sleep(200);
        }
      })();

      const outages: Outage[] = [];
      let faulted = false;
      const firstSuccess = (target: Target, since: number) => ledger.answers.filter((a) => a.target === target && a.sentAt >= since && a.status >= 200 && a.status < 300).reduce((min, a) => Math.min(min, a.at), Infinity);
      const answersFrom = (target: Target, since: number) => ledger.answers.filter((a) => a.target === target && a.sentAt >= since).length;
      const settledBy = (count: number, what: string) => eventually(async () => (ledger.settled >= count ? true : undefined), { timeoutMs: 180_000, what });
      const fault = async (round: number, victims: Target[]) => {
        await settledBy(ledger.settled + 40, `bookings settled before round ${round}`);
        const redisState = inspectServer(redisSpec);
        if (redisState.state !== 'running') throw new Error('the drill’s Redis is not running');
        const killedAt = Date.now();
        faulted = true;
        // One tick: Redis and the services die together.
        process.kill(redisState.pid, 'SIGKILL');
        for (const victim of victims) running.get(victim)?.child.kill('SIGKILL');
        await Promise.all(victims.map((victim) => exited(running.get(victim)!)));
        progress(`round ${round}: Redis and ${victims.join(', ')} killed`);
        // Down until clients have met the outage a few times (B's readers and, if it lives, slots).
        const witnesses: Target[] = victims.includes('slots') ? ['gateway-b'] : ['slots', 'gateway-b'];
        await eventually(async () => (witnesses.every((w) => answersFrom(w, killedAt) >= outageAnswers) ? true : undefined), { timeoutMs: 120_000, what: `answers during outage ${round}` });
        const redisStartedAt = Date.now();
        await startServer(redisSpec);
        progress(`round ${round}: Redis back on its data after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
        await start(...victims);
        outages.push({ round, killedAt, redisStartedAt, servicesReadyAt: Date.now() });
        progress(`round ${round}: ${victims.join(', ')} ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
      };
      // The operator acknowledges the other half through the faults, on gateway B.
      const operator = (async () => {
        await eventually(async () => (faulted ? true : undefined), { timeoutMs: 300_000, what: 'the first fault' });
        for (const alert of during) recordAck(await persist(() => acknowledge('gateway-b', alert), Date.now() + maxLoadMs));
      })();

      await fault(1, ['gateway-a']);
      await fault(2, ['gateway-a', 'slots']);
      await settledBy(ledger.settled + 40, 'bookings settled after the last round');
      const lastKill = outages.at(-1)?.killedAt ?? 0;
      await eventually(async () => (Number.isFinite(firstSuccess('slots', lastKill)) && Number.isFinite(firstSuccess('gateway-b', lastKill)) ? true : undefined), { timeoutMs: 120_000, what: 'slots and gateway B answering 2xx again' });
      stopping = true;
      await Promise.all([load, reading, operator]);
      progress(`load stopped: ${ledger.settled} bookings settled`);

      // Bookings: each in the state of its last 2xx answer, read back through the API.
      let recovered = 0;
      let lost = 0;
      const acknowledged = [...ledger.bookings.values()].filter((b) => b.acknowledged !== undefined);
      for (const booking of acknowledged) {
        const answer = await ledger.call('slots', url('slots', `/v1/bookings/${booking.id}`), 'read back', { token: booking.token });
        if (answer.status === 200 && answer.body['state'] === booking.acknowledged) recovered += 1;
        else {
          lost += 1;
          if (lost <= 5) findings.push(`booking ${booking.id} acknowledged ${booking.acknowledged}, now ${answer.status} ${String(answer.body['state'] ?? answer.body['detail'])}`);
        }
      }
      // No double booking: places and trucks per window, as operators list them.
      let overbooked = 0;
      let doubleBooked = 0;
      for (const window of windows) {
        const answer = await ledger.call('slots', url('slots', `/v1/bookings?site=bac-luan-2&from=${window.windowStart}&to=${window.windowStart + windowMs}`), 'list', { token: tokens.operator });
        const active = ((answer.body['bookings'] as { state: string; plate: string; windowStart: number }[] | undefined) ?? []).filter((b) => b.windowStart === window.windowStart && (b.state === 'held' || b.state === 'confirmed'));
        if (active.length > capacity) {
          overbooked += 1;
          findings.push(`window ${new Date(window.windowStart).toISOString()}: ${active.length} active bookings for ${capacity} places`);
        }
        doubleBooked += active.length - new Set(active.map((b) => b.plate)).size;
      }
      if (doubleBooked > 0) findings.push(`${doubleBooked} trucks booked twice in a window`);

      // The slot history (ClickHouse, fed from the topic and the outbox) catches up with every acknowledged state.
      const historyBehind = async () => {
        const rows = await selectRows<{ booking_id: string; state: string }>(clickhouse, sql`SELECT booking_id, argMax(state, updated_ms) AS state FROM slot_bookings GROUP BY booking_id`);
        const newest = new Map(rows.map((row) => [row.booking_id, row.state]));
        return acknowledged.filter((b) => newest.get(b.id) !== b.acknowledged);
      };
      // A history consumer killed with slots holds its partitions until its session lapses (30 s) and the group rebalances: wait while the history moves.
      const historyStartedAt = Date.now();
      const behind = await eventuallyProgressing({
        what: 'the slot history',
        progress: async () => acknowledged.length - (await historyBehind()).length,
        until: (caughtUp) => (caughtUp === acknowledged.length ? [] : undefined),
        stallMs: 120_000,
        capMs: 300_000,
        intervalMs: 500,
      }).catch(historyBehind);
      const historySeconds = seconds(historyStartedAt, Date.now());
      const when = (answer: Answer | undefined) => {
        if (!answer) return 'when held';
        const outage = outages.find((o) => answer.at >= o.killedAt - 10_000 && answer.at < o.servicesReadyAt + 30_000);
        return `by a ${answer.status} ${outage ? `${((answer.at - outage.killedAt) / 1000).toFixed(1)} s after kill ${outage.round}` : 'away from the kills'}`;
      };
      for (const booking of behind.slice(0, 5)) {
        const rows = await selectRows<{ state: string; updated_ms: string }>(clickhouse, sql`SELECT state, updated_ms FROM slot_bookings WHERE booking_id = ${booking.id} ORDER BY updated_ms`);
        findings.push(`booking ${booking.id} acknowledged ${booking.acknowledged} ${when(booking.answer)}; the slot history has ${rows.map((r) => `${r.state} at ${r.updated_ms}`).join(', ') || 'nothing'}`);
      }

      // Alerts: every cause open under its first id, acknowledged ones with who: in the restarted gateway's API, on a wall connecting to it, and in Redis itself.
      await redisAdmin.connect();
      const views: Record<string, AlertSeen[]> = {
        'the API': (await listAlerts('gateway-a')) ?? [],
        'a wall': (await wallAlerts(ports.gatewayA, tokens.display)).filter((a) => causes.has(a.cause)),
        Redis: (await redisAdmin.hvals('alerts:open')).map((encoded) => JSON.parse(encoded) as AlertSeen).filter((a) => causes.has(a.cause)),
      };
      let alertsRecovered = 0;
      let acknowledgementsRecovered = 0;
      for (const alert of raised) {
        const ack = ledger.acknowledgedAlerts.get(alert.id);
        let sameId = true;
        let sameAck = true;
        for (const [view, alerts] of Object.entries(views)) {
          const seen = alerts.find((a) => a.cause === alert.cause && a.state !== 'cleared');
          if (seen?.id !== alert.id) {
            sameId = false;
            findings.push(`${view} has ${seen?.id ?? 'no alert'} for ${alert.cause}, not ${alert.id}`);
          } else if (ack && (seen.state !== 'acknowledged' || seen.acknowledgedBy !== ack.acknowledgedBy || seen.acknowledgedByName !== ack.acknowledgedByName)) {
            sameAck = false;
            findings.push(`${view} forgot that ${ack.acknowledgedByName} (${ack.acknowledgedBy}) acknowledged ${alert.id}: ${seen.state}, by ${seen.acknowledgedBy ?? 'nobody'}`);
          }
        }
        if (sameId) alertsRecovered += 1;
        if (ack && sameId && sameAck) acknowledgementsRecovered += 1;
      }
      const raisedPerCause = await selectRows<{ cause: string; ids: string }>(clickhouse, sql`SELECT cause, uniqExact(alert_id) AS ids FROM alert_events GROUP BY cause`);
      const reraised = raisedPerCause.filter((row) => causes.has(row.cause) && Number(row.ids) > 1).length;
      if (reraised > 0) findings.push(`${reraised} causes raised again under a new id after the restart`);
      // An acknowledgement answered 200 is in the alert history too (the answer waits for Kafka and ClickHouse).
      const historyAcks = new Set((await selectRows<{ alert_id: string }>(clickhouse, sql`SELECT alert_id FROM alert_events WHERE state = 'acknowledged' GROUP BY alert_id`)).map((row) => row.alert_id));
      const acksNotInHistory = [...ledger.acknowledgedAlerts.keys()].filter((id) => !historyAcks.has(id));
      for (const id of acksNotInHistory) findings.push(`acknowledgement of ${id} answered 200 but is not in alert_events`);

      // Answers while Redis was away: 503 problem+json, or no answer from a killed process; never a 2xx.
      const inOutage = (answer: Answer) => outages.find((o) => answer.sentAt >= o.killedAt && answer.at < o.redisStartedAt);
      const outageAnswersAll = ledger.answers.filter(inOutage);
      const succeeded = outageAnswersAll.filter((a) => a.status >= 200 && a.status < 300);
      const unclear = outageAnswersAll.filter((a) => a.status !== 0 && a.status !== 503 && !(a.status >= 200 && a.status < 300));
      const not503Problem = outageAnswersAll.filter((a) => a.status === 503 && !(a.problem && a.body['dependency'] !== undefined));
      for (const a of [...succeeded, ...unclear, ...not503Problem].slice(0, 5)) findings.push(`during outage ${inOutage(a)?.round}: ${a.target} ${a.what} answered ${a.status} ${JSON.stringify(a.body).slice(0, 160)}`);
      const dependencies = [...new Set(outageAnswersAll.filter((a) => a.status === 503).map((a) => `${a.target}:${String(a.body['dependency'])}`))].sort();

      // Seconds without service, per round: from the kill to the first 2xx of a request sent after it.
      const figures: DrillVerdict['figures'] = {
        'booking requests': ledger.answers.filter((a) => a.target === 'slots').length,
        'bookings acknowledged (2xx, state known)': acknowledged.length,
        'bookings recovered in their acknowledged state': recovered,
        'bookings lost': lost,
        'holds refused, window full': ledger.refusedFull,
        'bookings not settled (no definitive answer)': ledger.unsettled,
        'acknowledged states missing from the slot history': behind.length,
        'slot history caught up after the load (s)': historySeconds,
        'windows over capacity': overbooked,
        'trucks booked twice in a window': doubleBooked,
        'alerts open before the faults': raised.length,
        'alerts back under their id (API, wall, Redis)': alertsRecovered,
        'alerts acknowledged (2xx)': ledger.acknowledgedAlerts.size,
        'acknowledgements back with who (API, wall, Redis)': acknowledgementsRecovered,
        'causes raised twice': reraised,
        'acknowledgements missing from the alert history': acksNotInHistory.length,
        'answers while Redis was down': outageAnswersAll.length,
        '503 problem+json while down': outageAnswersAll.filter((a) => a.status === 503 && a.problem).length,
        'no answer (process killed) while down': outageAnswersAll.filter((a) => a.status === 0).length,
        '2xx while down': succeeded.length,
        'other answers while down': unclear.length,
        '503 names': dependencies.join(' '),
      };
      for (const outage of outages) {
        figures[`round ${outage.round}: Redis down (s)`] = seconds(outage.killedAt, outage.redisStartedAt);
        figures[`round ${outage.round}: slots unavailable (s)`] = seconds(outage.killedAt, firstSuccess('slots', outage.killedAt));
        figures[`round ${outage.round}: alerts on gateway B unavailable (s)`] = seconds(outage.killedAt, firstSuccess('gateway-b', outage.killedAt));
        figures[`round ${outage.round}: killed services ready again (s)`] = seconds(outage.killedAt, outage.servicesReadyAt);
      }
      const passed =
        lost === 0 && recovered === acknowledged.length && acknowledged.length > 0 && behind.length === 0 && overbooked === 0 && doubleBooked === 0 && ledger.unsettled === 0 &&
        alertsRecovered === raised.length && acknowledgementsRecovered === ledger.acknowledgedAlerts.size && ledger.acknowledgedAlerts.size === raised.length && reraised === 0 && acksNotInHistory.length === 0 &&
        succeeded.length === 0 && unclear.length === 0 && not503Problem.length === 0 && outageAnswersAll.some((a) => a.status === 503);
      return { drill: 'redis-loss', passed, figures, findings };
    } finally {
      for (const service of running.values()) service.child.kill('SIGTERM');
      await Promise.all([...running.values()].map(exited));
      redisAdmin.disconnect();
      await stopServer(redisSpec);
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
      await clickhouse.close();
      const bootstrap = createClickHouse({ url: infra.CLICKHOUSE_URL, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: 'default', logger });
      await bootstrap.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
      await bootstrap.close();
    }
  },
};
