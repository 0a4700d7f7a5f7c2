/**
 * Drill 5: a full disk, first ClickHouse's under the aggregator, then Kafka's under ingest,
 * with devices sending all along. The whole write path runs on this drill's own servers:
 * a Kafka and a ClickHouse whose data directories are small tmpfs filesystems mounted
 * here (root only), the ingest API and the aggregator in this process, the eventId record
 * on the given Redis. A ballast file fills a filesystem to its last byte; deleting it is
 * the operator freeing space.
 *
 * What really happens (found by this drill): ClickHouse 18.16 refuses every insert with
 * `Code: 75 … errno: 28, strerror: No space left on device` (current servers: Code 243,
 * NOT_ENOUGH_SPACE) and keeps answering reads; Kafka 4.1's first append that fails marks
 * its only log directory failed and the broker shuts down ("all log dirs have failed"), so
 * it must be started again once there is space, as an SRE would.
 *
 * The verdict: while ClickHouse is full the aggregator's failures are transient (never
 * unknown, nothing dead-lettered), /readyz answers 503 with the store's error; while Kafka
 * is full ingest answers 503 problem+json naming kafka, never a 2xx; devices re-send what
 * was refused; once space returns every event acknowledged with a 2xx is stored once,
 * the aggregates equal the raw rows, and the group's lag is 0.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  EventCodec,
  createClickHouse,
  createKafka,
  createMetricsRegistry,
  createProducer,
  createRedis,
  createTopicsReady,
  hashSecret,
  kafkaLoginOf,
  loadCatalog,
  type TowerEvent,
} from '@tower/shared';
// Not @tower/shared/testing's index: it loads vitest's fixtures, and `npm run drill` runs outside vitest.
import { eventually, sleep, uniqueName } from '../../shared/src/testing/eventually.ts';
import { atLeast, eventuallyProgressing } from '../../shared/src/testing/progress.ts';
import { standaloneClickHouseSpec, standaloneKafkaSpec } from '../../infra/local/servers.ts';
import { inspectServer, startServer, stopServer } from '../../infra/local/supervisor.ts';
import { allRawEvents, countsByLane, migrate, queryRows, startAggregator, storedCounts, type AggregatorTopics } from '../../services/aggregator/src/test-support.ts';
import { buildApp } from '../../services/ingest/src/app.ts';
import { DeviceRegistry } from '../../services/ingest/src/domain/devices.ts';
import { RedisEventIdLedger } from '../../services/ingest/src/event-id-ledger.ts';
import { EventPublisher } from '../../services/ingest/src/publisher.ts';
import { TrafficSimulation } from '../../services/simulator/src/domain/traffic.ts';
import { cleanupSteps, type Drill, type DrillContext, type DrillVerdict } from './drill.ts';

const run = promisify(execFile);

/** K5's ports (27440–27459): ClickHouse HTTP (native next), Kafka broker (controller next, JMX agent after). */
const ports = { clickhouse: 27440, kafka: 27450, kafkaJmx: 27452 } as const;
/**
 * Each server's data filesystem, filled to the last byte by the ballast. ClickHouse's data
 * alone took 73–86 MB of 128 here (many small parts on 4 KB pages, and every part of an
 * aggregate table written again by each deletion of the repair, the old ones kept for
 * `old_parts_lifetime`): on a busy CI run it filled 128 MB again after the space came back
 * (the repair's deletion: "No space left on device" 28 s after, the drill failed). When
 * the operator frees space there must be room for the recovery: 512 MB (RAM, tmpfs).
 */
const filesystemMb = 512;
/** Devices send a chunk of this many events, then pause: bounded in count and in time. */
const chunkEvents = 100;
const pauseMs = 150;
const maxEvents = 60_000;
const maxStreamMs = 420_000;
/**
 * Events the devices keep for the second part (Kafka full, then back): they pause before
 * sending them until it starts, so a slow first part cannot spend them all (a run where
 * ClickHouse's part took 188 s had sent all 60,000 before Kafka filled, and nothing was
 * left to be refused).
 */
const keptForKafkaPart = 10_000;
/**
 * ClickHouse stays full this long, and until the aggregator failed to store this many
 * times: some runs fail every partition at each step of the backoff (42 in 20 s), others
 * one batch at a time at its 10 s ceiling (24 took 188 s), so the count is small.
 */
const clickhouseFullMs = 20_000;
const failuresWhileFull = 8;
/** Answers refused while Kafka is full before space is freed and Kafka started again. */
const refusalsWhileFull = 5;
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

/**
 * A tmpfs of `sizeMb` mounted on `dir` (created), with a ballast file that fills it.
 * Throws when it cannot be mounted (not root, or mount refused): the drill is then skipped.
 */
class SmallFilesystem {
  private readonly ballast: string;

  private constructor(readonly dir: string) {
    this.ballast = path.join(dir, 'disk-full-drill.ballast');
  }

  static async mount(dir: string, sizeMb: number): Promise<SmallFilesystem> {
    fs.mkdirSync(dir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]);
    return new SmallFilesystem(dir);
  }

  /** Writes ballast until the filesystem refuses a byte more (ENOSPC); returns the bytes written. Called again, tops it up. */
  fill(): number {
    const fd = fs.openSync(this.ballast, 'a');
    let written = 0;
    try {
      // Big blocks first, then pages, so nothing is left over.
      for (const block of [Buffer.alloc(1 << 20), Buffer.alloc(4096)]) {
        for (;;) {
          try {
            written += fs.writeSync(fd, block);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    return written;
  }

  /** Used and total MB, as the filesystem reports them. */
  usage(): string {
    const stats = fs.statfsSync(this.dir);
    const mb = (blocks: number) => Math.round((blocks * stats.bsize) / (1 << 20));
    return `${mb(stats.blocks - stats.bfree)} of ${mb(stats.blocks)} MB used`;
  }

  /** The operator frees space. */
  free(): void {
    fs.rmSync(this.ballast, { force: true });
  }

  /** Unmounted even when a process still holds a file on it (lazily, then). */
  async unmount(): Promise<void> {
    await run('umount', [this.dir]).catch(() => run('umount', ['-l', this.dir]));
  }
}

/** Why this machine cannot run the drill (mounting a filesystem needs root), or undefined when it can. */
export async function smallFilesystemRefusal(workDir: string): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root: mounting a small filesystem (tmpfs) needs root';
  const probe = path.join(workDir, 'mount-probe');
  try {
    await (await SmallFilesystem.mount(probe, 1)).unmount();
    return undefined;
  } catch (error) {
    return `mount refused: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** Sum of a metric's samples in Prometheus text, over the lines whose labels match `labels`. */
function metricSum(metrics: string, name: string, labels = ''): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** One gateway device per site, as the simulator's sender has them. */
function siteDevices(secret: string) {
  const sites = loadCatalog().document.sites;
  return {
    registry: new DeviceRegistry(sites.map((s) => ({ id: `${s.code}-gw-1`, site: s.id, keySha256: hashSecret(secret), enabled: true }))),
    keyOf: new Map(sites.map((s) => [s.id, `Bearer ${s.code}-gw-1.${secret}`])),
  };
}

interface Answers {
  acknowledged: Set<string>;
  /** 503 problem+json naming kafka, with Retry-After. */
  refused: number;
  /** The first refusal and the last, and the last 2xx. */
  firstRefusedAt?: number;
  lastRefusedAt?: number;
  lastAcknowledgedAt?: number;
  /** Anything that is neither a 2xx nor a clear 503 (a 500, a 503 without its problem): a finding each. */
  unexpected: string[];
}

export const diskFull: Drill = {
  name: 'disk-full',
  summary: "ClickHouse's disk filled under the aggregator, then Kafka's under ingest: retried as transient, 503s, nothing dead-lettered; space back: every acknowledged event stored once, lag 0",
  async run({ infra, logger, progress, workDir }: DrillContext): Promise<DrillVerdict> {
    const refusal = await smallFilesystemRefusal(workDir);
    if (refusal) return { drill: 'disk-full', passed: false, figures: { skipped: refusal }, findings: [`skipped: ${refusal}`] };
    const findings: string[] = [];
    const cleanup = cleanupSteps(logger);
    try {
      // ClickHouse with its data on a small filesystem, a database of this run.
      const clickhouseRoot = path.join(workDir, 'clickhouse-server');
      const clickhouseDisk = await SmallFilesystem.mount(path.join(clickhouseRoot, 'clickhouse', 'data'), filesystemMb);
      cleanup.push(() => clickhouseDisk.unmount());
      const clickhouseSpec = standaloneClickHouseSpec(clickhouseRoot, ports.clickhouse, infra.credentials);
      await startServer(clickhouseSpec);
      cleanup.push(() => stopServer(clickhouseSpec));
      const settings = { url: `http://127.0.0.1:${ports.clickhouse}`, username: infra.CLICKHOUSE_USER, password: infra.CLICKHOUSE_PASSWORD, database: uniqueName('drill_disk'), logger };
      const bootstrap = createClickHouse({ ...settings, database: 'default' });
      await bootstrap.command({ query: `CREATE DATABASE ${settings.database}` }).finally(() => bootstrap.close());
      await migrate(settings);
      const client = createClickHouse({ ...settings, requestTimeoutMs: 10_000 });
      cleanup.push(() => client.close());

      // Kafka with its only log directory on a small filesystem.
      const kafkaRoot = path.join(workDir, 'kafka-server');
      const kafkaDisk = await SmallFilesystem.mount(path.join(kafkaRoot, 'kafka', 'log'), filesystemMb);
      cleanup.push(() => kafkaDisk.unmount());
      const kafkaSpec = standaloneKafkaSpec(kafkaRoot, ports.kafka, infra.credentials, ports.kafkaJmx);
      await startServer(kafkaSpec);
      cleanup.push(() => stopServer(kafkaSpec));
      const brokers = [`127.0.0.1:${ports.kafka}`];
      const kafka = createKafka({ brokers, clientId: uniqueName('drill-disk'), logger, login: kafkaLoginOf(infra) });
      const admin = kafka.admin();
      await admin.connect();
      cleanup.push(() => admin.disconnect());
      const names = Array.from({ length: 6 }, () => uniqueName('drill-disk'));
      const topics: AggregatorTopics = { events: { truck: names[0]!, container: names[1]!, lane: names[2]! }, deadLetter: names[3]!, throughput: names[4]!, journeys: names[5]! };
      await createTopicsReady(admin, names.map((topic, i) => ({ topic, numPartitions: i < 3 ? 3 : 1, replicationFactor: 1 })));
      const groupId = uniqueName('drill-disk');
      const aggregator = await startAggregator({ kafka, admin, logger, clickhouse: { client }, topics }, { groupId });
      cleanup.push(() => aggregator.close());

      // The ingest API as main.ts builds it: acks=all, a 503 when Kafka does not acknowledge within 5 s.
      const ingestKafka = createKafka({ brokers, clientId: uniqueName('drill-ingest'), logger, retries: 1, connectionTimeoutMs: 1000, requestTimeoutMs: 3000, login: kafkaLoginOf(infra) });
      const producer = createProducer(ingestKafka);
      await producer.connect();
      cleanup.push(() => producer.disconnect());
      const redis = createRedis(infra.REDIS_URL, { connectionName: uniqueName('drill-disk'), logger, username: infra.REDIS_USERNAME, password: infra.REDIS_PASSWORD });
      redis.options.keyPrefix = `${uniqueName('drill-disk')}:`;
      await redis.connect();
      cleanup.push(() => redis.quit());
      const devices = siteDevices(uniqueName('secret'));
      const { app: ingest } = await buildApp({
        settings: { maxBatchEvents: 1000, bodyLimitBytes: 8 * 1024 * 1024, deviceRatePerSecond: 100_000, deviceBurstEvents: 100_000 },
        logger,
        catalog: loadCatalog(),
        devices: devices.registry,
        eventIds: new RedisEventIdLedger(redis, 3600),
        publisher: new EventPublisher(producer, new EventCodec(), 5_000, topics.events),
        metrics: createMetricsRegistry('drill-ingest'),
        readiness: [],
      });
      cleanup.push(() => ingest.close());

      // Devices send the simulation's events in chunks; a refused chunk is sent again (same content) until it is acknowledged.
      const now = Date.now();
      const events: TowerEvent[] = new TrafficSimulation(loadCatalog(), { seed: 5, rate: 200, start: now - 3 * 3600_000 }).advanceTo(now).slice(0, maxEvents);
      const answers: Answers = { acknowledged: new Set(), refused: 0, unexpected: [] };
      let sent = 0;
      let streaming = true;
      let kafkaPart = false;
      const post = async (site: string, batch: TowerEvent[]): Promise<boolean> => {
        const response = await ingest.inject({ method: 'POST', url: '/v1/events', headers: { authorization: devices.keyOf.get(site)!, 'content-type': 'application/json' }, payload: JSON.stringify(batch) });
        if (response.statusCode === 200) {
          for (const event of batch) answers.acknowledged.add(event.eventId);
          answers.lastAcknowledgedAt = Date.now();
          return true;
        }
        const problem = String(response.headers['content-type']).startsWith('application/problem+json') ? response.json<{ dependency?: string }>() : undefined;
        if (response.statusCode === 503 && problem?.dependency === 'kafka' && response.headers['retry-after']) {
          answers.refused += 1;
          answers.firstRefusedAt ??= Date.now();
          answers.lastRefusedAt = Date.now();
        } else {
          answers.unexpected.push(`${response.statusCode} ${response.body.slice(0, 200)}`);
        }
        return false;
      };
      let streamError: Error | undefined;
      const stream = (async () => {
        const started = Date.now();
        while (streaming && sent < events.length && Date.now() - started < maxStreamMs) {
          if (!kafkaPart && sent >= events.length - keptForKafkaPart) {
            await sleep(pauseMs);
            continue;
          }
          const chunk = events.slice(sent, sent + chunkEvents);
          for (const site of new Set(chunk.map((e) => e.site))) {
            const batch = chunk.filter((e) => e.site === site);
            while (!(await post(site, batch))) {
              if (!streaming) return;
              await sleep(250);
            }
          }
          sent += chunk.length;
          await sleep(pauseMs);
        }
      })().catch((error: Error) => void (streamError = error));
      cleanup.push(async () => {
        streaming = false;
        await stream;
      });
      const metrics = async () => (await aggregator.app.inject({ url: '/metrics' })).body;
      const readiness = async () => {
        const response = await aggregator.app.inject({ url: '/readyz' });
        return { status: response.statusCode, detail: response.json<{ detail?: string }>().detail ?? '' };
      };

      // 1. ClickHouse's disk full under the aggregator.
      await eventuallyProgressing({ what: 'events stored before the disk fills', progress: async () => (await storedCounts(client)).raw, until: atLeast(2_000), stallMs: 60_000 });
      const failuresBefore = metricSum(await metrics(), 'tower_consumer_handler_failures_total');
      const clickhouseFullAt = Date.now();
      const ballastMb = Math.round(clickhouseDisk.fill() / (1 << 20));
      progress(`ClickHouse's filesystem filled (${ballastMb} MB of ballast); ${sent} events sent, ${(await storedCounts(client)).raw} stored`);
      // ClickHouse frees a little as it drops the parts it failed to write: kept full until the operator acts.
      let topUp = true;
      const toppingUp = (async () => {
        while (topUp) {
          clickhouseDisk.fill();
          await sleep(200);
        }
      })();
      cleanup.push(async () => {
        topUp = false;
        await toppingUp;
      });
      await eventuallyProgressing({
        what: `${failuresWhileFull} failed attempts to store while ClickHouse is full`,
        progress: async () => metricSum(await metrics(), 'tower_consumer_handler_failures_total') - failuresBefore,
        until: atLeast(failuresWhileFull),
        stallMs: 60_000,
      });
      await sleep(clickhouseFullMs - (Date.now() - clickhouseFullAt));
      const notReady = await readiness();
      if (notReady.status !== 503 || !/No space left on device|NOT_ENOUGH_SPACE/.test(notReady.detail)) findings.push(`while ClickHouse was full /readyz answered ${notReady.status}: ${notReady.detail}`);
      const whileFull = await metrics();
      const clickhouseFailures = { transient: metricSum(whileFull, 'tower_consumer_handler_failures_total', 'class="transient"'), unknown: metricSum(whileFull, 'tower_consumer_handler_failures_total', 'class="unknown"'), permanent: metricSum(whileFull, 'tower_consumer_handler_failures_total', 'class="permanent"') };
      topUp = false;
      await toppingUp;
      clickhouseDisk.free();
      const clickhouseFreedAt = Date.now();
      progress(`space freed on ClickHouse after ${seconds(clickhouseFreedAt - clickhouseFullAt)} s; failures by class: ${JSON.stringify(clickhouseFailures)}`);
      await eventually(async () => ((await readiness()).status === 200 ? true : undefined), { timeoutMs: 120_000, what: 'the aggregator ready again after space returned' });
      const clickhouseReadyAt = Date.now();
      const storedAtRecovery = (await storedCounts(client)).raw;
      await eventuallyProgressing({ what: 'events stored after ClickHouse had space again', progress: async () => (await storedCounts(client)).raw, until: atLeast(storedAtRecovery + 2_000), stallMs: 60_000 });

      // 2. Kafka's disk full under ingest: the broker shuts down; the SRE frees space and starts it again.
      const kafkaFullAt = Date.now();
      kafkaDisk.fill();
      kafkaPart = true;
      progress(`Kafka's filesystem filled; ${sent} events sent, ${answers.acknowledged.size} acknowledged`);
      await eventuallyProgressing({ what: `${refusalsWhileFull} answers refused while Kafka is full`, progress: () => answers.refused, until: atLeast(refusalsWhileFull), stallMs: 60_000 });
      const brokerDown = await eventually(async () => (inspectServer(kafkaSpec).state === 'running' ? undefined : Date.now()), { timeoutMs: 60_000, what: 'the broker to shut down on its failed log directory' }).catch(
        (error: Error) => void findings.push(`${error.message}: Kafka kept running on a full disk`),
      );
      kafkaDisk.free();
      const kafkaFreedAt = Date.now();
      await startServer(kafkaSpec);
      const kafkaBackAt = Date.now();
      progress(`Kafka ${brokerDown ? `shut down ${seconds(brokerDown - kafkaFullAt)} s after its disk filled` : 'did not shut down'}; space freed, started again in ${seconds(kafkaBackAt - kafkaFreedAt)} s`);
      const ackedAtRestart = answers.acknowledged.size;
      const ingestBackAt = await eventually(async () => (answers.acknowledged.size > ackedAtRestart ? answers.lastAcknowledgedAt : undefined), { timeoutMs: 120_000, what: 'ingest to acknowledge again after Kafka is back' });
      await eventuallyProgressing({ what: 'events acknowledged after Kafka is back', progress: () => answers.acknowledged.size, until: atLeast(ackedAtRestart + 2_000), stallMs: 60_000 });
      streaming = false;
      await stream;
      if (streamError) findings.push(`the devices stopped after ${sent} events: ${streamError.message}`);
      progress(`devices done: ${sent} events sent, ${answers.acknowledged.size} acknowledged, ${answers.refused} answers refused; waiting for the aggregator to store them`);

      // 3. The verdict: every acknowledged event once, the aggregates equal to the raw rows, nothing dead-lettered, lag 0.
      await eventuallyProgressing({ what: 'every acknowledged event stored', progress: async () => (await storedCounts(client)).raw, until: atLeast(answers.acknowledged.size), stallMs: 60_000 }).catch(async (error: Error) => {
        findings.push(error.message);
        // What held it, for the next reader of a failed run: a deletion of the repair's still pending?
        const pending = await queryRows<{ table: string; mutation_id: string; create_time: string; parts_to_do: number }>(
          client,
          'SELECT table, mutation_id, toString(create_time) AS create_time, parts_to_do FROM system.mutations WHERE database = currentDatabase() AND is_done = 0',
        );
        for (const m of pending) findings.push(`deletion ${m.mutation_id} of ${m.table} pending since ${m.create_time} (${m.parts_to_do} parts to do)`);
        // Or the disk full again, of ClickHouse's own data (the ballast is gone by now)?
        findings.push(`ClickHouse's filesystem at the stall: ${clickhouseDisk.usage()}`);
      });
      await eventuallyProgressing({
        what: 'the aggregates to settle',
        progress: async () => (await storedCounts(client)).aggregated,
        until: async (aggregated) => (aggregated >= answers.acknowledged.size ? aggregated : undefined),
        stallMs: 20_000,
      }).catch((error: Error) => findings.push(error.message));
      // The group's lag as the aggregator reports it to Prometheus (committed offsets; read when scraped, so never stale).
      const groupLag = async () => {
        const lines = (await metrics()).split('\n').filter((line) => line.startsWith('tower_consumer_lag_messages{') && line.includes(`group="${groupId}"`));
        if (lines.length === 0) throw new Error('the aggregator reports no lag for its group');
        return metricSum(lines.join('\n'), 'tower_consumer_lag_messages');
      };
      const lag = await eventuallyProgressing({ what: 'committed offsets at the end of every partition', progress: groupLag, until: (behind) => (behind === 0 ? 0 : undefined), stallMs: 30_000 }).catch(async (error: Error) => {
        findings.push(error.message);
        return groupLag().catch(() => Number.NaN);
      });
      const storedIds = (await queryRows<{ event_id: string }>(client, `SELECT event_id FROM ${allRawEvents}`)).map((r) => r.event_id);
      const distinct = new Set(storedIds);
      const lost = [...answers.acknowledged].filter((id) => !distinct.has(id));
      const stored = await countsByLane(client);
      const lanesOff = [...new Set([...stored.raw.keys(), ...stored.minute.keys(), ...stored.hour.keys()])].filter((key) => stored.minute.get(key) !== stored.raw.get(key) || stored.hour.get(key) !== stored.raw.get(key));
      const inKafka = (await Promise.all(Object.values(topics.events).map((topic) => admin.fetchTopicOffsets(topic)))).flat().reduce((sum, p) => sum + Number(p.high), 0);
      const deadLetterOffsets = (await admin.fetchTopicOffsets(topics.deadLetter)).reduce((sum, p) => sum + Number(p.high), 0);
      const deadLettered = Math.max(deadLetterOffsets, metricSum(await metrics(), 'tower_consumer_dead_lettered_total'));

      if (clickhouseFailures.transient === 0) findings.push('no failure classified transient while ClickHouse was full');
      if (clickhouseFailures.unknown + clickhouseFailures.permanent > 0) findings.push(`a full ClickHouse was classified unknown ${clickhouseFailures.unknown}× and permanent ${clickhouseFailures.permanent}×: a batch of one would be dead-lettered`);
      if (answers.refused === 0) findings.push('ingest never refused while Kafka was full');
      for (const answer of answers.unexpected.slice(0, 5)) findings.push(`ingest answered neither a 2xx nor a 503 naming kafka: ${answer}`);
      if (lost.length > 0) findings.push(`${lost.length} acknowledged events not stored, e.g. ${lost.slice(0, 3).join(', ')}`);
      if (storedIds.length !== distinct.size) findings.push(`${storedIds.length - distinct.size} events stored twice`);
      for (const key of lanesOff.slice(0, 5)) findings.push(`aggregates disagree with the raw rows on ${key}: raw ${stored.raw.get(key) ?? 0}, 1-minute ${stored.minute.get(key) ?? 0}, 1-hour ${stored.hour.get(key) ?? 0}`);
      if (deadLettered > 0) findings.push(`${deadLettered} messages dead-lettered`);
      if (lag !== 0) {
        // What held it, for whoever reads a failed run (CI keeps no logs of the drill's own aggregator).
        const atEnd = await readiness().catch((error: Error) => ({ status: 0, detail: error.message }));
        findings.push(`lag ${lag} at the end; the aggregator's /readyz: ${atEnd.status} ${atEnd.detail.slice(0, 400)}`);
      }
      return {
        drill: 'disk-full',
        passed: findings.length === 0,
        figures: {
          'events sent': sent,
          'events acknowledged (2xx)': answers.acknowledged.size,
          'answers refused (503 naming kafka)': answers.refused,
          'other answers': answers.unexpected.length,
          'messages in Kafka (with re-sends)': inKafka,
          'raw rows stored': storedIds.length,
          'events stored (distinct ids)': distinct.size,
          'acknowledged events lost': lost.length,
          'events stored twice': storedIds.length - distinct.size,
          'dead-lettered': deadLettered,
          'lanes where aggregates ≠ raw': lanesOff.length,
          'lag at the end (messages)': lag,
          'ClickHouse full (s)': seconds(clickhouseFreedAt - clickhouseFullAt),
          'store failures while full: transient / unknown / permanent': `${clickhouseFailures.transient} / ${clickhouseFailures.unknown} / ${clickhouseFailures.permanent}`,
          'aggregator /readyz while ClickHouse was full': `${notReady.status} ${notReady.detail.slice(0, 180)}`,
          'aggregator ready after space returned (s)': seconds(clickhouseReadyAt - clickhouseFreedAt),
          'Kafka broker shut down after its disk filled (s)': brokerDown ? seconds(brokerDown - kafkaFullAt) : 'no',
          'Kafka full, until space freed (s)': seconds(kafkaFreedAt - kafkaFullAt),
          'Kafka started again after space freed (s)': seconds(kafkaBackAt - kafkaFreedAt),
          'ingest refused (s, first 503 to the next 2xx)': answers.firstRefusedAt ? seconds(ingestBackAt - answers.firstRefusedAt) : 0,
          'ingest accepting again after space freed (s)': seconds(ingestBackAt - kafkaFreedAt),
        },
        findings,
      };
    } finally {
      await cleanup.run();
    }
  },
};
