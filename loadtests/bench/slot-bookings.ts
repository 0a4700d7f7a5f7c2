/**
 * Bookings per second and request latency of the slots API (N API processes on one
 * port, SLOTS_API_PROCESSES) with 1,000 concurrent clients, next to `redis-benchmark`
 * (SET, same client count) on the same Redis in the same run.
 *
 *   npx tsx loadtests/bench/slot-bookings.ts [--bookings 60000] [--clients 1000] [--processes 0] [--keep-infra]
 *
 * Starts its own Kafka/ClickHouse/Redis (bench profile; Redis with the project's
 * configuration: AOF fsync'd before each answer) and the slots service on 28082. Each
 * booking is a POST /v1/bookings with its own Idempotency-Key, a hold made by one Lua
 * script and published to tower.slots.v1 (acks=all) before the 201. Requests go to
 * the smart export lanes of Bắc Luân II, 300 to a window (360 places), so none is
 * refused; every answer must be 201, and the topic must hold every booking's state and
 * every window's places, or the benchmark fails. The clients run
 * in this process, on the same 2 cores: the figure is a floor. The reference runs
 * once before the slots service starts and once after it stops, and its rate is the
 * two runs' (all SETs over all their seconds): a single run of a second or two moves
 * with the machine by more than the guard's 25 %.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { parseArgs, promisify } from 'node:util';
import { readDemoCredentials } from '../../infra/provision/credentials.ts';
import { apiProcessesOf } from '../../services/slots/src/config.ts';
import { registerFleet } from '../../services/slots/src/test-support.ts';
import { benchKafka, invocation, machineDescription, percentile, pooledRate, postJson, print, reportRatio, startBenchInfra, startBenchService, type BenchInfra } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    bookings: { type: 'string', default: '60000' },
    clients: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '0' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const totalBookings = Number(values.bookings);
const clients = Number(values.clients);
for (const [name, value] of Object.entries({ bookings: totalBookings, clients })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
// SLOTS_API_PROCESSES: 0 (the default) is the service's own choice for this machine.
const processes = apiProcessesOf(Number(values.processes));
if (!Number.isInteger(processes) || processes < 1) throw new Error('--processes must be 0 (the service’s default) or a positive integer');
const slotsPort = 28082;
const windowMs = 30 * 60_000;
const perWindow = 300;
const run = promisify(execFile);
/** The `n`th truck of a window (one plate per place), in the fleet of firm key `n % keys`. */
const plateOf = (n: number) => `14C-${String(n).padStart(5, '0').slice(0, 3)}.${String(n).padStart(5, '0').slice(3)}`;

async function slotTopicEnd(infra: BenchInfra): Promise<number> {
  const admin = benchKafka(infra, 'bench-offsets').admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets('tower.slots.v1')).reduce((sum, p) => sum + Number(p.high), 0);
  await admin.disconnect();
  return total;
}

/** `count` bookings from `clients` concurrent clients (one keep-alive socket each); fails on the first answer that is not 201. */
async function drive(firstWindow: number, offset: number, count: number, keys: string[], tag: string): Promise<{ seconds: number; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = offset + next++;
        const windowStart = firstWindow + Math.floor(i / perWindow) * windowMs;
        const n = i % perWindow;
        const body = JSON.stringify({ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart, plate: plateOf(n), cargoClass: 'electronics' });
        const sent = performance.now();
        const answer = await postJson(agent, slotsPort, '/v1/bookings', { authorization: `Bearer ${keys[n % keys.length]!}`, 'idempotency-key': `${tag}-${i}` }, body);
        latencies.push(performance.now() - sent);
        if (answer.status !== 201) throw new Error(`booking ${i} answered ${answer.status}: ${answer.text.slice(0, 500)}`);
      }
    }),
  );
  agent.destroy();
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

interface RedisBenchmarkRun {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  command: string;
}

/** redis-benchmark's own figures for SET with the same number of clients, on the same Redis. */
async function redisBenchmark(infra: BenchInfra, requests: number): Promise<RedisBenchmarkRun> {
  const args = ['-p', String(infra.profile.redis.port), '--user', infra.endpoints.REDIS_USERNAME, '-c', String(clients), '-n', String(requests), '-t', 'set', '--csv'];
  // redis-benchmark takes the password only as -a; the printed command shows where it comes from instead.
  const { stdout } = await run('redis-benchmark', [...args, '-a', infra.endpoints.REDIS_PASSWORD], { timeout: 10 * 60_000 });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = stdout.trim().split('\n').find((line) => line.startsWith('"SET"'));
  const cells = row?.split(',').map((cell) => Number(cell.replaceAll('"', '')));
  if (!cells || cells.length < 7) throw new Error(`unexpected redis-benchmark output: ${stdout}`);
  return { opsPerSecond: cells[1]!, p50Ms: cells[4]!, p99Ms: cells[6]!, command: `redis-benchmark ${args.join(' ')} -a <tower-admin's password: .local/bench/credentials/infra.json>` };
}

print(`slot bookings benchmark: ${totalBookings} bookings, ${clients} concurrent clients`);
const infra = await startBenchInfra(values['keep-infra']);
let slots: Awaited<ReturnType<typeof startBenchService>> | undefined;
try {
  const keys = readDemoCredentials(infra.credentialsDir).access.filter((a) => a.role === 'firm').map((a) => a.token);
  if (keys.length === 0) throw new Error('no firm keys in the bench credentials');
  const referenceRequests = Math.max(100_000, totalBookings);
  const referenceBefore = await redisBenchmark(infra, referenceRequests);
  slots = await startBenchService('slots', infra, slotsPort, {
    ACCESS_FILE: `${infra.credentialsDir}/access.json`,
    FIRM_CAP_PER_WINDOW: '100000',
    // Each run books a fresh range of windows (the bench Redis keeps earlier runs' bookings).
    BOOKING_HORIZON_DAYS: '400',
    // Two demo firms carry the whole load: lift their per-key request limit.
    RATE_PER_SECOND: '1000000',
    RATE_BURST: '1000000',
    SLOTS_API_PROCESSES: String(processes),
  });
  // A fresh range of windows each run, starting tomorrow: the horizon cut into spans as long as one run books, one picked by the clock (a run landing on an earlier run's span finds its plates booked: 409).
  const warmup = Math.min(5000, Math.ceil(totalBookings / 10));
  const spanDays = Math.ceil((Math.ceil((warmup + totalBookings) / perWindow) * windowMs) / 86_400_000);
  const firstWindow = Math.ceil((Date.now() + 86_400_000) / windowMs) * windowMs + (Math.floor(Date.now() / 1000) % Math.floor(395 / spanDays)) * spanDays * 86_400_000;
  const tag = `bench-${Date.now().toString(36)}`;
  // Each firm's trucks in its fleet, before anything is measured (again on a kept Redis: 200, harmless).
  for (const [k, key] of keys.entries()) await registerFleet(`http://127.0.0.1:${slotsPort}`, key, Array.from({ length: perWindow }, (_, n) => n).filter((n) => n % keys.length === k).map(plateOf));
  await drive(firstWindow, 0, warmup, keys, tag);
  const before = await slotTopicEnd(infra);
  const measured = await drive(firstWindow, warmup, totalBookings, keys, tag);
  const published = (await slotTopicEnd(infra)) - before;
  // Every booking's state, and every window's places at least once (concurrent changes of
  // a window go out as its newest places); more when the relay publishes again a change
  // whose request outlived the outbox grace, or one left by an earlier run.
  const windowsTouched = Math.ceil((warmup + totalBookings) / perWindow) - Math.floor(warmup / perWindow);
  if (published < totalBookings + windowsTouched) throw new Error(`tower.slots.v1 grew by ${published} messages, expected at least ${totalBookings + windowsTouched}`);
  await slots.stop();
  slots = undefined;

  const rate = totalBookings / measured.seconds;
  const referenceRuns = [referenceBefore, await redisBenchmark(infra, referenceRequests)];
  const referenceRate = pooledRate(referenceRuns.map((r) => r.opsPerSecond));
  print();
  print(`machine: ${machineDescription()}`);
  print(`command: ${invocation()}`);
  print(`slots API (${processes} API process${processes === 1 ? '' : 'es'}${processes === 1 ? '' : ' + 1 duties process'}, ${clients} clients, hold = 1 Lua script + acks=all publish before 201): ${Math.round(rate)} bookings/s, ${totalBookings} in ${measured.seconds.toFixed(1)} s; latency p50 ${percentile(measured.latencies, 50).toFixed(1)} ms, p99 ${percentile(measured.latencies, 99).toFixed(1)} ms; tower.slots.v1 +${published} messages (${totalBookings} booking states, the rest windows' places)`);
  print(`redis-benchmark SET (same Redis, AOF fsync always, ${clients} clients, before the slots service and after it): ${Math.round(referenceRate)} ops/s (${referenceRuns.map((r) => `${Math.round(r.opsPerSecond)} ops/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`).join('; ')})`);
  print(`  reference command: ${referenceBefore.command}`);
  reportRatio({ key: 'slot-bookings/bookings-vs-redis-benchmark-set', value: rate / referenceRate, better: 'higher', meaning: 'slots API bookings/s ÷ redis-benchmark SET ops/s' });
} finally {
  await slots?.stop();
  await infra.stop();
}
