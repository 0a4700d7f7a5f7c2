import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * A tiny process supervisor for the local servers. Each server runs detached (its
 * own process group, so a Ctrl-C in the terminal reaches only `npm start`, which
 * then stops servers in order), with a pid file that records the executable so a
 * reused pid is never mistaken for ours, and a log file.
 */
export interface ServerSpec {
  /** Stable id, used for file names: `kafka-1`, `clickhouse`, `redis`. */
  name: string;
  /** What a person calls it: `Kafka broker 1`. */
  label: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  ports: { port: number; role: string }[];
  /** `.local/<profile>`: pid files go to run/, logs to logs/. */
  profileRoot: string;
  /** Writes configs and formats storage; must be idempotent. */
  prepare(): Promise<void>;
  isReady(): Promise<boolean>;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  /** Said when a server found running never gets ready (e.g. one started before its users existed). */
  runningNotReadyHint?: string;
  /** Started once every other server of its profile is ready (Prometheus: its first scrapes find them up). */
  startsAfterOthers?: boolean;
  /** Brings a server found already running up to today's configuration (Prometheus: re-render, SIGHUP). */
  reconfigure?(pid: number): Promise<void>;
}

export type ServerState =
  | { state: 'running'; pid: number }
  | { state: 'dead'; pid: number }
  | { state: 'stopped' };

export class PortTakenError extends Error {
  constructor(
    readonly server: string,
    readonly port: number,
    readonly holder: string,
  ) {
    super(`port ${port} needed by ${server} is already in use${holder ? ` by ${holder}` : ''}; stop that process or free the port`);
  }
}

export class ServerStartError extends Error {}

interface PidRecord {
  pid: number;
  exe: string;
  startedAt: string;
}

const pidFile = (spec: ServerSpec) => path.join(spec.profileRoot, 'run', `${spec.name}.pid.json`);
export const logFile = (spec: ServerSpec) => path.join(spec.profileRoot, 'logs', `${spec.name}.log`);

/** The path to run (through links: Debian's redis-server picks its mode from argv[0]) and the file it really is. */
function resolveExecutable(command: string): { path: string; real: string } {
  const found = command.includes('/') ? command : execFileSync('which', [command], { encoding: 'utf8' }).trim();
  return { path: found, real: fs.realpathSync(found) };
}

function executableOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function readPidRecord(spec: ServerSpec): PidRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(pidFile(spec), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

export function inspectServer(spec: ServerSpec): ServerState {
  const record = readPidRecord(spec);
  if (!record) return { state: 'stopped' };
  return executableOf(record.pid) === record.exe ? { state: 'running', pid: record.pid } : { state: 'dead', pid: record.pid };
}

export function portIsOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Who listens on a port, as `pid 123 (name)`, when `ss` can tell. */
function portHolder(port: number): string {
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', timeout: 2000 });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    return match ? `pid ${match[2]} (${match[1]})` : '';
  } catch {
    return '';
  }
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  stillAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (!stillAlive()) throw new ServerStartError(`${what} exited while starting`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ServerStartError(`${what} was not ready after ${Math.round(timeoutMs / 1000)} s`);
}

function tailOf(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export type StartOutcome = 'started' | 'already-running' | 'recovered';

/** Starts a server unless ours is already running; waits until it is ready. */
export async function startServer(spec: ServerSpec): Promise<StartOutcome> {
  const current = inspectServer(spec);
  if (current.state === 'running') {
    await spec.reconfigure?.(current.pid);
    await waitFor(spec.label, () => spec.isReady(), spec.readyTimeoutMs, () => inspectServer(spec).state === 'running').catch((error: Error) => {
      throw spec.runningNotReadyHint ? new ServerStartError(`${error.message} (it was already running); ${spec.runningNotReadyHint}`) : error;
    });
    return 'already-running';
  }
  if (current.state === 'dead') {
    fs.rmSync(pidFile(spec), { force: true });
    await waitForPortsClosed(spec).catch(() => undefined);
  }

  for (const { port, role } of spec.ports) {
    if (await portIsOpen(port)) throw new PortTakenError(`${spec.label} (${role})`, port, portHolder(port));
  }
  await spec.prepare();
  fs.mkdirSync(path.dirname(pidFile(spec)), { recursive: true });
  fs.mkdirSync(path.dirname(logFile(spec)), { recursive: true });
  const log = fs.openSync(logFile(spec), 'a');
  fs.writeSync(log, `\n=== ${new Date().toISOString()} starting ${spec.label}: ${spec.command} ${spec.args.join(' ')}\n`);
  const exe = resolveExecutable(spec.command);
  const child = spawn(exe.path, spec.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...spec.env },
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new ServerStartError(`${spec.label} could not be started (${exe.path})`);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.unref();
  const record: PidRecord = { pid: child.pid, exe: exe.real, startedAt: new Date().toISOString() };
  fs.writeFileSync(pidFile(spec), JSON.stringify(record));
  try {
    await waitFor(spec.label, () => spec.isReady(), spec.readyTimeoutMs, () => !exited);
  } catch (error) {
    await stopServer(spec);
    throw new ServerStartError(`${(error as Error).message}; last lines of ${logFile(spec)}:\n${tailOf(logFile(spec), 15)}`);
  }
  return current.state === 'dead' ? 'recovered' : 'started';
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running';

/** SIGTERM, then SIGKILL after the server's grace period. */
export async function stopServer(spec: ServerSpec): Promise<StopOutcome> {
  const current = inspectServer(spec);
  fs.rmSync(pidFile(spec), { force: true });
  if (current.state !== 'running') return 'not-running';
  process.kill(current.pid, 'SIGTERM');
  let outcome: StopOutcome = 'stopped';
  try {
    await waitFor(`${spec.label} to stop`, async () => !isAlive(current.pid), spec.stopTimeoutMs);
  } catch {
    process.kill(current.pid, 'SIGKILL');
    await waitFor(`${spec.label} to die`, async () => !isAlive(current.pid), 5000);
    outcome = 'killed';
  }
  await waitForPortsClosed(spec);
  return outcome;
}

/**
 * SIGKILL, as a crash or the OOM killer would: no shutdown, no flush (reliability drills).
 * Returns the pid killed, or undefined when the server was not running.
 */
export async function killServer(spec: ServerSpec): Promise<number | undefined> {
  const current = inspectServer(spec);
  fs.rmSync(pidFile(spec), { force: true });
  if (current.state !== 'running') return undefined;
  process.kill(current.pid, 'SIGKILL');
  await waitFor(`${spec.label} to die`, async () => !isAlive(current.pid), 5000);
  await waitForPortsClosed(spec);
  return current.pid;
}

/** The kernel may release a dead process's sockets a moment after it has exited. */
async function waitForPortsClosed(spec: ServerSpec): Promise<void> {
  const open = async () => (await Promise.all(spec.ports.map((p) => portIsOpen(p.port)))).some(Boolean);
  await waitFor(`${spec.label}'s ports to close`, async () => !(await open()), 5000);
}

/**
 * Alive until the kernel has closed its files: the exe link vanishes earlier in exit
 * (with its memory), while sockets may still be bound, so read the state instead.
 */
function isAlive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
