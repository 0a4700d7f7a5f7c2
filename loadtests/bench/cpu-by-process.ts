/**
 * Where the CPU goes while a load runs: samples every process of this machine from /proc
 * and prints, per part of the stack (ingest, aggregator, live, slots, simulator,
 * ClickHouse, Kafka, Redis, Prometheus, the load generator, …), the share of one core it
 * used over the run and in its busiest interval. Linux only; bounded in time.
 *
 *   npx tsx loadtests/bench/cpu-by-process.ts --seconds 300 --every 10 [--out file.md] [-- command …]
 *
 * Start it beside a load (`npm run load -- breakpoint …`) against a stack on this machine,
 * or give the load's command after `--`: it runs it and samples until it ends (at most
 * --seconds). A process counts for the intervals it was seen in at both ends, so a load
 * generator that ended before the last sample still counts (but for its last interval).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

/** CPU ticks of one process at one moment. */
export interface ProcessSample {
  pid: number;
  part: string;
  ticks: number;
}

/** The part of the stack a process is, from its command line (argv joined by spaces). */
export function partOf(commandLine: string): string {
  const service = /services\/([\w-]+)\//.exec(commandLine)?.[1];
  if (service) return service;
  if (/clickhouse/.test(commandLine)) return 'ClickHouse';
  if (/kafka\.Kafka\b|kafka-server|kafka_2\./.test(commandLine)) return 'Kafka';
  if (/redis_exporter|redis-exporter/.test(commandLine)) return 'Redis exporter';
  if (/redis-server/.test(commandLine)) return 'Redis';
  if (/node_exporter|node-exporter/.test(commandLine)) return 'node exporter';
  if (/prometheus/.test(commandLine)) return 'Prometheus';
  if (/artillery|loadtests\/sre|loadtests\/kit/.test(commandLine)) return 'load generator';
  if (/loadtests\/bench/.test(commandLine)) return 'benchmark';
  if (/\bjava\b/.test(commandLine)) return 'other java';
  if (/\bnode\b|tsx/.test(commandLine)) return 'other node';
  return 'other';
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function ticksOf(statLine: string): number {
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

function sample(): ProcessSample[] {
  const samples: ProcessSample[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (commandLine === '') continue;
      samples.push({ pid: Number(entry), part: partOf(commandLine), ticks: ticksOf(fs.readFileSync(`/proc/${entry}/stat`, 'utf8')) });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return samples;
}

/** CPU seconds per part between two samples (a process that started meanwhile counts from 0; one that ended is left out). */
export function cpuSecondsByPart(before: readonly ProcessSample[], after: readonly ProcessSample[], ticksPerSecond: number): Map<string, number> {
  const earlier = new Map(before.map((s) => [s.pid, s.ticks]));
  const byPart = new Map<string, number>();
  for (const s of after) byPart.set(s.part, (byPart.get(s.part) ?? 0) + Math.max(0, s.ticks - (earlier.get(s.pid) ?? 0)) / ticksPerSecond);
  return byPart;
}

/**
 * CPU seconds per part summed over consecutive samples, and each part's busiest interval
 * (in cores): a process counts for every interval it was seen at both ends of, so one
 * that ended before the last sample (a load generator) keeps what it used until then.
 */
export class CpuTally {
  readonly overall = new Map<string, number>();
  readonly busiest = new Map<string, number>();

  constructor(private readonly ticksPerSecond: number) {}

  add(before: readonly ProcessSample[], after: readonly ProcessSample[], elapsedSeconds: number): void {
    for (const [part, cpu] of cpuSecondsByPart(before, after, this.ticksPerSecond)) {
      this.busiest.set(part, Math.max(this.busiest.get(part) ?? 0, cpu / elapsedSeconds));
      this.overall.set(part, (this.overall.get(part) ?? 0) + cpu);
    }
  }

  get total(): number {
    return [...this.overall.values()].reduce((a, b) => a + b, 0);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { seconds: { type: 'string', default: '300' }, every: { type: 'string', default: '10' }, out: { type: 'string' } },
    allowPositionals: true,
  });
  const seconds = Number(values.seconds);
  const every = Number(values.every);
  if (!(seconds > 0 && seconds <= 3600)) throw new Error(`--seconds must be in (0, 3600], not ${values.seconds}`);
  if (!(every >= 1 && every <= seconds)) throw new Error(`--every must be in [1, --seconds], not ${values.every}`);
  if (process.platform !== 'linux') throw new Error('cpu-by-process reads /proc: Linux only');
  // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
  const hz = 100;
  let previous = sample();
  const load = positionals.length > 0 ? spawn(positionals[0]!, positionals.slice(1), { stdio: 'inherit' }) : undefined;
  let loadExit: number | null | undefined;
  const loadEnded = load ? new Promise<void>((resolve) => load.on('exit', (code) => ((loadExit = code), resolve()))) : new Promise<void>(() => {});
  const tally = new CpuTally(hz);
  const started = Date.now();
  let ended = false;
  void loadEnded.then(() => (ended = true));
  while (Date.now() - started < seconds * 1000 && !ended) {
    const intervalStart = Date.now();
    await Promise.race([new Promise((resolve) => setTimeout(resolve, every * 1000)), loadEnded]);
    const now = sample();
    const elapsed = (Date.now() - intervalStart) / 1000;
    tally.add(previous, now, elapsed);
    previous = now;
    process.stderr.write(`[cpu-by-process] ${((Date.now() - started) / 1000).toFixed(0)} s: ${(tally.total / ((Date.now() - started) / 1000)).toFixed(2)} cores busy on average\n`);
  }
  if (load && !ended) {
    process.stderr.write(`[cpu-by-process] --seconds ${seconds} passed: stopping the load (SIGTERM)\n`);
    load.kill('SIGTERM');
  }
  const wall = (Date.now() - started) / 1000;
  const overall = [...tally.overall].sort((a, b) => b[1] - a[1]);
  const cores = os.cpus().length;
  const lines = [
    `CPU by part of the stack over ${wall.toFixed(0)} s (${cores} cores; 100 % = one core), sampled every ${every} s from /proc`,
    `command: npx tsx loadtests/bench/cpu-by-process.ts --seconds ${seconds} --every ${every}${load ? ` -- ${positionals.join(' ')}` : ''}`,
    '',
    '| part | CPU s | average (% of a core) | busiest interval (% of a core) | share of all |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  const all = overall.reduce((sum, [, cpu]) => sum + cpu, 0);
  for (const [part, cpu] of overall) {
    if (cpu < 0.05) continue;
    lines.push(`| ${part} | ${cpu.toFixed(1)} | ${((cpu / wall) * 100).toFixed(0)} % | ${((tally.busiest.get(part) ?? 0) * 100).toFixed(0)} % | ${((cpu / all) * 100).toFixed(0)} % |`);
  }
  lines.push(`| all | ${all.toFixed(1)} | ${((all / wall) * 100).toFixed(0)} % of ${cores * 100} % | | |`);
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (values.out) fs.writeFileSync(values.out, text);
  if (loadExit !== undefined && loadExit !== 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    process.stderr.write(`cpu-by-process: ${error.message}\n`);
    process.exit(2);
  });
}
