/**
 * Fan-out of the live gateway: N WebSocket clients on ONE gateway process, all
 * subscribed to the whole zone, while ticks arrive from Kafka at a steady rate. Per
 * step (1,000, 5,000, 10,000 clients): delivery latency p50/p99 (tick published to Kafka
 * → delta parsed by the client), deliveries vs expected, and the gateway's resident
 * memory per connection. The reference, in the same run: a bare `ws` server sending the
 * same number of clients one pre-serialised frame at the same rate
 * (loadtests/bench/lib/ws-broadcast-reference.ts).
 *
 *   npx tsx loadtests/bench/live-fanout.ts [--clients 1000,5000,10000] [--rate 10] [--seconds 15] [--keep-infra]
 *
 * Clients run in this process, on the same 2 cores as the gateway, Kafka and the
 * reference: the figures are a floor. Starts its own servers (bench profile) and a
 * gateway on 28080 with a bench token allowed 20,000 sockets.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createTopicsReady, createLogger, createProducer, emptyMeasures, hashSecret, newDeviceSecret, type ThroughputTick } from '@tower/shared';
import { repoRoot } from '../../infra/local/profiles.ts';
import { inspectServer } from '../../infra/local/supervisor.ts';
import { benchKafka, invocation, machineDescription, percentile, print, reportRatio, startBenchInfra, startBenchService } from './lib/harness.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000,5000,10000' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    'keep-infra': { type: 'boolean', default: false },
  },
});
const steps = values.clients.split(',').map(Number);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
if (steps.some((n) => !Number.isInteger(n) || n < 1) || !(rate > 0) || !(seconds > 0)) throw new Error('--clients must be positive integers, --rate and --seconds positive');
const gatewayPort = 28080;
const referencePort = 28090;
const logger = createLogger({ service: 'bench', level: 'error' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Many clients in this process; each delta's latency is read from its `publishedAt` without parsing the whole frame. */
class ClientPool {
  readonly sockets: WebSocket[] = [];
  latencies: number[] = [];
  received = 0;
  recording = false;

  constructor(
    private readonly url: string,
    private readonly protocols: string[],
    private readonly subscribe: string,
  ) {}

  async grow(total: number): Promise<void> {
    while (this.sockets.length < total) {
      const batch = Math.min(200, total - this.sockets.length);
      await Promise.all(Array.from({ length: batch }, () => this.openOne()));
    }
  }

  private openOne(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, this.protocols, { perMessageDeflate: false });
      let subscribed = false;
      ws.on('open', () => ws.send(this.subscribe));
      ws.on('error', reject);
      ws.on('message', (data) => {
        const text = data.toString();
        if (!subscribed) {
          subscribed = true;
          this.sockets.push(ws);
          resolve();
          return;
        }
        if (!this.recording) return;
        const at = text.indexOf('"publishedAt":');
        if (at < 0) return;
        this.received += 1;
        this.latencies.push(Date.now() - Number.parseInt(text.slice(at + 14, at + 30), 10));
      });
    });
  }

  reset(): void {
    this.latencies = [];
    this.received = 0;
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
  }
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

function tick(seq: number): ThroughputTick {
  const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
  return { site: 'bac-luan-2', lane: `bl2-smart-ex-${1 + (seq % 4)}`, direction: 'export', laneKind: 'smart', windowStart, windowEnd: windowStart + 60_000, final: false, correction: false, ...emptyMeasures, events: seq, newestIngestedAt: Date.now(), publishedAt: Date.now() };
}

interface StepResult {
  clients: number;
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  expected: number;
  rss: number;
  perConnectionKiB: number;
}

const summarise = (clients: number, pool: ClientPool, expected: number, rss: number, perConnectionKiB: number): StepResult => {
  const sorted = pool.latencies.sort((a, b) => a - b);
  return { clients, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0, delivered: pool.received, expected, rss, perConnectionKiB };
};

print(`live fan-out benchmark: ${steps.join(' / ')} clients, ${rate} ticks/s for ${seconds} s per step`);
const infra = await startBenchInfra(values['keep-infra']);
let gateway: Awaited<ReturnType<typeof startBenchService>> | undefined;
try {
  const runId = `bench_${Date.now().toString(36)}`;
  const secret = newDeviceSecret();
  const accessFile = path.join(infra.credentialsDir, `${runId}-access.json`);
  fs.writeFileSync(accessFile, JSON.stringify({ version: 1, tokens: [{ id: 'bench-wall', role: 'display', name: 'fan-out benchmark', tokenSha256: hashSecret(secret), maxConnections: 20_000, enabled: true }] }));
  const topic = `${runId}.throughput`;
  const kafka = benchKafka(infra, 'bench-fanout', logger);
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [{ topic, numPartitions: 1, replicationFactor: infra.profile.kafka.replicationFactor }]);
  gateway = await startBenchService('live', infra, gatewayPort, { ACCESS_FILE: accessFile, TOPIC_THROUGHPUT: topic, CLICKHOUSE_DATABASE: 'tower', CATALOG_FILE: path.join(repoRoot, 'seeds/site-catalog.json') });
  const state = inspectServer(gateway.spec);
  if (state.state !== 'running') throw new Error('the gateway is not running');
  const producer = createProducer(kafka);
  await producer.connect();

  const subscribe = JSON.stringify({ type: 'subscribe', id: 'zone', channel: 'throughput' });
  const pool = new ClientPool(`ws://127.0.0.1:${gatewayPort}/v1/live?token=bench-wall.${secret}`, ['tower.live.v1'], subscribe);
  const results: StepResult[] = [];
  let seq = 0;
  for (const clients of steps) {
    const before = rssMiB(state.pid);
    const had = pool.sockets.length;
    await pool.grow(clients);
    await sleep(1000);
    const rss = rssMiB(state.pid);
    pool.reset();
    pool.recording = true;
    let sent = 0;
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      seq += 1;
      sent += 1;
      await producer.send([{ topic, messages: [{ key: 'bac-luan-2/bl2-smart-ex-1', value: JSON.stringify(tick(seq)) }] }]);
      await sleep(Math.max(0, started + (sent * 1000) / rate - Date.now()));
    }
    // Every delta must arrive (late is measured, lost is a failure of the run to report).
    const drainDeadline = Date.now() + 60_000;
    while (pool.received < sent * clients && Date.now() < drainDeadline) await sleep(200);
    await sleep(500);
    pool.recording = false;
    const result = summarise(clients, pool, sent * clients, rss, ((rss - before) * 1024) / Math.max(1, clients - had));
    results.push(result);
    print(`  ${clients} clients: p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms; delivered ${result.delivered}/${result.expected}; gateway RSS ${rss.toFixed(0)} MiB (${result.perConnectionKiB.toFixed(1)} KiB per added connection)`);
  }
  pool.close();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  await gateway.stop();
  gateway = undefined;
  fs.rmSync(accessFile, { force: true });

  // The reference: a bare ws broadcast to the same numbers of clients at the same rate.
  const profileDir = process.env['BENCH_CPU_PROFILE_DIR'];
  const reference = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', 'tsx', path.join(repoRoot, 'loadtests/bench/lib/ws-broadcast-reference.ts'), String(referencePort), String(rate)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  reference.stdout.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  while (!lines.includes('ready')) await sleep(50);
  const referencePool = new ClientPool(`ws://127.0.0.1:${referencePort}/`, [], subscribe);
  const referenceResults: StepResult[] = [];
  for (const clients of steps) {
    const before = rssMiB(reference.pid!);
    const had = referencePool.sockets.length;
    await referencePool.grow(clients);
    await sleep(1000);
    const rss = rssMiB(reference.pid!);
    referencePool.reset();
    referencePool.recording = true;
    const sentBefore = lines.length;
    reference.stdin.write(`start ${seconds}\n`);
    while (lines.length === sentBefore) await sleep(100);
    const sent = Number(lines.at(-1)?.split(' ')[1]);
    const drainDeadline = Date.now() + 60_000;
    while (referencePool.received < sent * clients && Date.now() < drainDeadline) await sleep(200);
    await sleep(500);
    referencePool.recording = false;
    referenceResults.push(summarise(clients, referencePool, sent * clients, rss, ((rss - before) * 1024) / Math.max(1, clients - had)));
  }
  referencePool.close();
  reference.kill('SIGINT');

  print();
  print(`machine: ${machineDescription()}`);
  print(`command: ${invocation()}`);
  print(`| clients | gateway p50 / p99 / max (ms) | delivered | gateway KiB per connection | bare ws p50 / p99 / max (ms) | bare ws KiB per connection | p99 ratio |`);
  print(`| --- | --- | --- | --- | --- | --- | --- |`);
  results.forEach((g, i) => {
    const r = referenceResults[i]!;
    print(`| ${g.clients} | ${g.p50} / ${g.p99} / ${g.max} | ${g.delivered} of ${g.expected} | ${g.perConnectionKiB.toFixed(1)} | ${r.p50} / ${r.p99} / ${r.max} | ${r.perConnectionKiB.toFixed(1)} | ${(g.p99 / Math.max(1, r.p99)).toFixed(2)} |`);
  });
  results.forEach((g, i) => reportRatio({ key: `live-fanout/p99-at-${g.clients}-clients-vs-bare-ws`, value: g.p99 / Math.max(1, referenceResults[i]!.p99), better: 'lower', meaning: `gateway delivery p99 to ${g.clients} clients ÷ a bare ws broadcast's` }));
} finally {
  await gateway?.stop();
  await infra.stop();
}
