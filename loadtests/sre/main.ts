/**
 * npm run load -- <scenario> [--target <file>] [--rate N] [--duration S] [--batch N] [--clients N]
 *
 * Resolves the target (default: the local npm start stack), installs the load
 * generator if missing, prepares what the scenario needs (device keys by site, the
 * target's catalog, a window with free places, the event pool), runs the scenario's
 * Artillery scripts side by side while sampling the services' /metrics, checks
 * correctness (events acknowledged = rows stored for this run's sources, no window over
 * capacity), judges every SLO of slos.json and writes
 * loadtests/results/<timestamp>-<scenario>/ (Artillery's JSON, summary.md,
 * report.html). Exits 1 when an SLO fails, 2 when the run could not be made.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildCatalog, sitePhase, type SiteCatalog } from '@tower/shared';
import { awaitStored, overbookedWindows, type StoredEvents } from './correctness.ts';
import { devicesNeeded, provideDeviceKeys, provideDisplayToken } from './device-keys.ts';
import { trafficModel } from './events.ts';
import { breakSoFar, combine, figuresOf, findBreak, verdicts, type ArtilleryPeriod, type ArtilleryReport, type BreakPoint } from './figures.ts';
import { bundleEngine, bundleProcessor, ensureKit, runArtillery } from './kit.ts';
import { exposition, servePrometheus, type LoadSnapshot } from './prometheus.ts';
import { passed, reportHtml, summaryMarkdown, type RunRecord } from './report.ts';
import type { RunContext } from './run-context.ts';
import { deviceEngine, scenarioNamed, type LoadOptions } from './scenarios.ts';
import { provideFleets, releaseWindow, setPlaces } from './slot-rush.ts';
import { MetricsSampler, serverFigures } from './server-metrics.ts';
import { callJson, localTarget, readTarget, TargetError, tokenOf, type Target } from './target.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The first lane group with no booking yet in a window at least three hours on (firms may cancel up to two hours before). */
async function bookableWindow(target: Target, catalog: SiteCatalog, firmToken: string): Promise<RunContext['slot']> {
  const from = Math.ceil((Date.now() + 3 * 3600_000) / 1_800_000) * 1_800_000;
  for (const site of catalog.document.sites.filter((s) => sitePhase(s) === 'operating')) {
    const places = await callJson<{ windows: { laneKind: string; direction: string; windowStart: number; free: number; held: number; booked: number; closed: boolean }[] }>(`${target.slots}/v1/slots?site=${encodeURIComponent(site.id)}&from=${from}`, firmToken).catch(() => undefined);
    const window = places?.windows.find((w) => w.free > 0 && w.held + w.booked === 0 && !w.closed && w.windowStart >= from);
    if (window) return { site: site.id, laneKind: window.laneKind, direction: window.direction, windowStart: window.windowStart, cargoClass: 'textiles' };
  }
  throw new TargetError(`no lane group of ${target.slots} has a free place from ${new Date(from).toISOString()}`);
}

function options(): { scenario: string; targetFile?: string; overrides: Partial<LoadOptions>; slosFile: string; resultsDir: string; tickTimeout: number; storeTimeout: number; prometheus?: { port: number; host: string } } {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      batch: { type: 'string' },
      clients: { type: 'string' },
      factor: { type: 'string' },
      slos: { type: 'string' },
      results: { type: 'string' },
      'tick-timeout': { type: 'string' },
      'store-timeout': { type: 'string' },
      'prometheus-port': { type: 'string' },
      'prometheus-host': { type: 'string' },
    },
  });
  const scenario = positionals[0];
  if (!scenario || positionals.length > 1) throw new TargetError('usage: npm run load -- <scenario> [--target <file>] [--rate N] [--duration S] [--batch N] [--clients N] [--factor F] [--slos <file>] [--results <dir>] [--prometheus-port N [--prometheus-host H]]');
  const number = (name: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new TargetError(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const overrides: Partial<LoadOptions> = {};
  for (const [name, min, max] of [['rate', 0.001, 10_000], ['duration', 5, 7 * 86_400], ['batch', 1, 1000], ['clients', 1, 100_000], ['factor', 0.01, 10_000]] as const) {
    const n = number(name, values[name], min, max);
    if (n !== undefined) overrides[name] = n;
  }
  return {
    scenario,
    ...(values.target ? { targetFile: values.target } : {}),
    overrides,
    slosFile: values.slos ?? path.join(import.meta.dirname, 'slos.json'),
    resultsDir: values.results ?? path.join(repoRoot, 'loadtests/results'),
    tickTimeout: number('tick-timeout', values['tick-timeout'], 1, 600) ?? 30,
    storeTimeout: number('store-timeout', values['store-timeout'], 1, 3600) ?? 120,
    ...(values['prometheus-port'] === undefined ? {} : { prometheus: { port: number('prometheus-port', values['prometheus-port'], 0, 65_535) ?? 0, host: values['prometheus-host'] ?? '127.0.0.1' } }),
  };
}

/** The periods a part's reporter wrote so far (a line being written is left for the next read). */
function readPeriods(file: string): ArtilleryPeriod[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line) as ArtilleryPeriod] : [];
      } catch {
        return [];
      }
    });
}

async function main(): Promise<number> {
  const args = options();
  const scenario = scenarioNamed(args.scenario);
  const slos = (JSON.parse(fs.readFileSync(args.slosFile, 'utf8')) as Record<string, Record<string, number>>)[scenario.name];
  if (!slos) throw new TargetError(`${args.slosFile} has no SLOs for ${scenario.name}`);
  const target = args.targetFile ? readTarget(args.targetFile) : localTarget(repoRoot);
  const artillery = await ensureKit(say);

  const catalog = buildCatalog(await callJson(`${target.ingest}/v1/catalog`), `${target.ingest}/v1/catalog`);
  const keyedSites = new Set(target.registryDirectory ? catalog.document.sites.map((s) => s.id) : target.credentials.devices.map((d) => d.site));
  const firmToken = tokenOf(target, 'firm');
  const runId = randomBytes(4).toString('hex');
  const defaults = { ...scenario.defaults, ...args.overrides };
  const model = scenario.writes.events ? trafficModel(catalog, { batchSize: defaults.batch, batches: 200, seed: parseInt(runId, 16), sites: keyedSites }) : undefined;
  const load: LoadOptions = {
    ...defaults,
    rate: defaults.rate ?? ((model?.eventsPerSecond ?? 0) * defaults.factor) / defaults.batch,
    firms: (model?.bookingsPerSecond ?? 0) * defaults.factor,
  };
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const devices = await provideDeviceKeys(target, catalog, devicesNeeded(model?.pool ?? [], load.rate * (scenario.peakFactor ?? 1) * load.batch), say);
  const directory = path.join(args.resultsDir, `${stamp}-${scenario.name}`);
  fs.mkdirSync(directory, { recursive: true });
  const context: RunContext = {
    ingest: target.ingest,
    live: target.live,
    slots: target.slots,
    deviceKeys: devices.keys,
    displayToken: await provideDisplayToken(target, catalog, load.clients, say),
    fleets: await provideFleets(target),
    sourcePrefix: `lt-${runId}-`,
    pool: model?.pool ?? [],
    slot: await bookableWindow(target, catalog, firmToken),
    wallHoldSeconds: Math.max(10, load.duration - 20),
    tickTimeoutSeconds: args.tickTimeout,
  };
  // The context holds the target's keys: readable by us only, and removed after the run.
  const contextFile = path.join(directory, 'run-context.json');
  fs.writeFileSync(contextFile, JSON.stringify(context), { mode: 0o600 });
  const processor = path.join(directory, 'processor.cjs');
  bundleProcessor(path.join(import.meta.dirname, 'processor.ts'), processor);
  const engines = path.join(directory, 'engines');
  bundleEngine(path.join(import.meta.dirname, 'device-engine.ts'), deviceEngine, engines);

  const operatorToken = scenario.rush ? tokenOf(target, 'operator') : '';
  const placesBefore = scenario.rush ? await setPlaces(target, operatorToken, context.slot, load.clients) : 0;
  say(`load test ${scenario.name} against ${target.name}: ${scenario.shape(load)}; results in ${path.relative(process.cwd(), directory)}`);
  const sampler = new MetricsSampler(target.metrics);
  sampler.start();
  const startedAt = Date.now();
  const parts = scenario.parts(load, contextFile);
  const reporter = path.join(directory, 'period-reporter.cjs');
  bundleProcessor(path.join(import.meta.dirname, 'period-reporter.ts'), reporter, true);
  const periodsFile = (name: string) => path.join(directory, `${name}.periods.jsonl`);
  // The generator's own figures for Prometheus: the periods reported so far at each scrape, the whole run's once done.
  let finalAggregate: ArtilleryPeriod | undefined;
  const loadSnapshot = (): LoadSnapshot => ({ scenario: scenario.name, runId, periods: parts.flatMap((part) => readPeriods(periodsFile(part.name))), ...(finalAggregate ? { final: finalAggregate } : {}) });
  const prometheus = args.prometheus && (await servePrometheus(args.prometheus.port, args.prometheus.host, loadSnapshot));
  if (prometheus) say(`the load generator's figures for Prometheus: http://${args.prometheus?.host}:${prometheus.port}/metrics`);
  let codes: number[];
  let stoppedAt: BreakPoint | undefined;
  let stopMs = 0;
  try {
    const runs = parts.map((part) => {
      const script = path.join(directory, `${part.name}.script.json`);
      fs.writeFileSync(script, JSON.stringify({ ...part.script, config: { ...part.script.config, processor } }, null, 2));
      return runArtillery(script, path.join(directory, `${part.name}.json`), part.name, say, { module: reporter, periodsFile: periodsFile(part.name) }, engines);
    });
    // A ramp stops at the break: the periods reported so far are judged every 2 s, and every part is stopped once one broke.
    const finished = new Set<string>();
    runs.forEach((run, i) => void run.exit.then(() => finished.add(parts[i]?.name ?? '')));
    const watch = scenario.breakpoint
      ? setInterval(() => {
          const broke = breakSoFar(Object.fromEntries(parts.map((part) => [part.name, readPeriods(periodsFile(part.name))])), finished, slos, Date.now());
          if (!broke || stoppedAt) return;
          stoppedAt = broke;
          stopMs = Date.now();
          say(`the ramp broke ${broke.figure} (${Math.round(broke.value * 100) / 100} > ${broke.max}) at ${broke.eventsPerSecond} events/s: stopping the load`);
          for (const run of runs) run.stop();
        }, 2000)
      : undefined;
    codes = await Promise.all(runs.map((run) => run.exit)).finally(() => clearInterval(watch));
  } finally {
    fs.rmSync(contextFile, { force: true });
  }
  const reports = Object.fromEntries(
    parts.map((part, i) => {
      const output = path.join(directory, `${part.name}.json`);
      if (fs.existsSync(output)) return [part.name, JSON.parse(fs.readFileSync(output, 'utf8')) as ArtilleryReport];
      // Stopped at the break, Artillery writes no output: the periods it reported make it up (a summary is the worst period's).
      const periods = readPeriods(periodsFile(part.name));
      if (!stoppedAt) throw new Error(`Artillery wrote no results for part ${part.name} (exit code ${codes[i]}); its output is above`);
      return [part.name, { aggregate: combine(periods), intermediate: periods } satisfies ArtilleryReport];
    }),
  );
  const aggregate = combine(Object.values(reports).map((r) => r.aggregate));
  finalAggregate = aggregate;
  fs.writeFileSync(path.join(directory, 'metrics.prom'), exposition(loadSnapshot()));
  const accepted = aggregate.counters['tower.events_accepted'] ?? 0;
  const notes: string[] = [...devices.notes];
  // Stopped at the break, a part exits 130 (Ctrl-C): that is the plan, not a failure.
  codes = codes.map((code) => (stoppedAt && code === 130 ? 0 : code));
  codes.forEach((code, i) => code !== 0 && notes.push(`Artillery exited ${code} for part ${parts[i]?.name}`));
  if (stoppedAt) notes.push(`the load was stopped once the ramp broke (${Math.round((stopMs - startedAt) / 1000)} s after the start, of ${load.duration} s planned); Artillery wrote no output for the parts stopped, so their figures are the periods they reported (a percentile of the whole run is its worst 10-second period's, and answers of the last period before the stop are not counted: events acknowledged then are not checked)`);

  let stored: StoredEvents | null = null;
  if (scenario.writes.events && target.clickhouse) {
    say(`checking correctness: ${accepted} events acknowledged; waiting for them in ClickHouse (up to ${args.storeTimeout} s)`);
    stored = await awaitStored(target.clickhouse, context.sourcePrefix, accepted, args.storeTimeout * 1000);
  }
  else if (scenario.writes.events) notes.push('the target names no ClickHouse login: stored rows not checked (correctness.events_missing and events_duplicated are not measured)');
  const overbooked = scenario.writes.bookings ? (await overbookedWindows(target, firmToken, context.slot.site, context.slot.windowStart)).length : null;
  if (scenario.rush) notes.push(`an operator set ${context.slot.site} ${context.slot.laneKind} ${context.slot.direction} ${new Date(context.slot.windowStart).toISOString()} to ${load.clients} places (it had ${placesBefore}), then cancelled the ${await releaseWindow(target, operatorToken, context.slot, placesBefore)} bookings of the rush and gave it its places back`);
  const servers = await sampler.stop();
  const endedAt = Date.now();

  const figures = { ...figuresOf(aggregate, { accepted, stored, overbookedWindows: overbooked, places: scenario.rush ? load.clients : null }), ...serverFigures(servers) };
  const periods = Object.fromEntries(Object.entries(reports).map(([name, r]) => [name, r.intermediate]));
  // A ramp is judged period by period (where did it break); the whole run only on correctness.
  let judged = slos;
  if (scenario.breakpoint) {
    const { broke, peakEventsPerSecond } = findBreak(periods, slos);
    figures['breakpoint.events_per_s'] = broke?.eventsPerSecond ?? null;
    figures['breakpoint.peak_events_per_s'] = peakEventsPerSecond;
    notes.unshift(
      broke
        ? `BREAKPOINT: ${broke.figure} broke its SLO (${Math.round(broke.value * 100) / 100} > ${broke.max}) ${broke.atSeconds} s into the ramp, at ${broke.eventsPerSecond} events/s sent`
        : `no SLO broke up to ${peakEventsPerSecond} events/s: raise --rate (the top of the ramp, batches/s)`,
    );
    judged = Object.fromEntries(Object.entries(slos).filter(([figure]) => figure.startsWith('correctness.')));
  }
  const record: RunRecord = {
    scenario: scenario.name,
    purpose: scenario.purpose,
    shape: scenario.shape(load),
    command: `npm run load -- ${process.argv.slice(2).join(' ')}`,
    target: { name: target.name, source: target.source, ingest: target.ingest, live: target.live, slots: target.slots },
    sharesMachine: target.sharesMachine,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Artillery ${artillery}`,
    startedAt,
    endedAt,
    figures,
    verdicts: verdicts(figures, judged),
    periods,
    servers,
    notes: [...notes, ...(scenario.writes.events ? [`events carry the source prefix ${context.sourcePrefix} (ClickHouse: WHERE source LIKE '${context.sourcePrefix}%')`] : [])],
  };
  fs.writeFileSync(path.join(directory, 'summary.md'), summaryMarkdown(record));
  fs.writeFileSync(path.join(directory, 'report.html'), reportHtml(record));
  fs.writeFileSync(path.join(directory, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  await prometheus?.close();
  for (const v of record.verdicts) say(`${v.pass ? 'pass' : 'FAIL'}  ${v.figure} = ${v.value ?? 'not measured'} (SLO ≤ ${v.max})`);
  const ok = passed(record) && codes.every((c) => c === 0);
  say(`${ok ? 'PASS' : 'FAIL'}: ${path.join(path.relative(process.cwd(), directory), 'summary.md')}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`load: ${error instanceof TargetError ? error.message : (error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
