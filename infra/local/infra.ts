import fs from 'node:fs';
import { resolveProfile, type InfraProfile, type KafkaMode, type ProfileName } from './profiles.ts';
import { serversOf } from './servers.ts';
import { inspectServer, logFile, portIsOpen, startServer, stopServer, type ServerSpec, type StartOutcome } from './supervisor.ts';

export type Report = (line: string) => void;

/**
 * Starts every server of the profile (in parallel: a Kafka cluster's nodes need each
 * other to become ready; those that start after the others, Prometheus, once they are
 * ready). Idempotent: servers already running are kept. If any
 * server fails, the ones this call started are stopped again and the first error is
 * thrown.
 */
export async function upInfra(profile: InfraProfile, report: Report): Promise<Map<string, StartOutcome>> {
  const other: KafkaMode = profile.kafkaMode === 'single' ? 'cluster' : 'single';
  const otherRunning = serversOf(resolveProfile(profile.name, other)).filter((s) => s.name.startsWith('kafka') && inspectServer(s).state === 'running');
  if (otherRunning.length > 0) {
    throw new Error(`Kafka of profile '${profile.name}' is running in ${other} mode; stop it first (npm run infra:down${profile.name === 'dev' ? '' : ` -- --profile ${profile.name}`})`);
  }
  const servers = serversOf(profile);
  const outcomes = new Map<string, StartOutcome>();
  for (const phase of [servers.filter((s) => !s.startsAfterOthers), servers.filter((s) => s.startsAfterOthers)]) {
    const results = await Promise.allSettled(
      phase.map(async (spec) => {
        const outcome = await startServer(spec);
        outcomes.set(spec.name, outcome);
        const note = outcome === 'recovered' ? ' (its previous run had died; restarted on the same data)' : outcome === 'already-running' ? ' (already running)' : '';
        report(`${spec.label.padEnd(14)} ready on ${spec.ports.map((p) => `127.0.0.1:${p.port}`).join(', ')}${note}`);
        return outcome;
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      for (const spec of servers) {
        if (outcomes.get(spec.name) === 'started' || outcomes.get(spec.name) === 'recovered') await stopServer(spec);
      }
      throw failure.reason;
    }
  }
  return outcomes;
}

/** Stops every server of the profile, in both Kafka modes; Kafka first so it can still flush. */
export async function downInfra(name: ProfileName, report: Report, only?: ReadonlySet<string>): Promise<void> {
  const specs = allSpecs(name).filter((s) => !only || only.has(s.name));
  const kafka = specs.filter((s) => s.name.startsWith('kafka'));
  const rest = specs.filter((s) => !s.name.startsWith('kafka'));
  for (const group of [kafka, rest]) {
    await Promise.all(
      group.map(async (spec) => {
        const outcome = await stopServer(spec);
        if (outcome !== 'not-running') report(`${spec.label.padEnd(14)} ${outcome}`);
      }),
    );
  }
}

export interface ServerStatus {
  name: string;
  label: string;
  state: 'running' | 'dead' | 'stopped';
  pid?: number;
  ports: { port: number; role: string; open: boolean }[];
  log: string;
}

export async function statusInfra(name: ProfileName): Promise<ServerStatus[]> {
  return Promise.all(
    allSpecs(name).map(async (spec) => {
      const state = inspectServer(spec);
      return {
        name: spec.name,
        label: spec.label,
        state: state.state,
        ...(state.state === 'stopped' ? {} : { pid: state.pid }),
        ports: await Promise.all(spec.ports.map(async (p) => ({ ...p, open: await portIsOpen(p.port) }))),
        log: logFile(spec),
      };
    }),
  );
}

export function allSpecs(name: ProfileName): ServerSpec[] {
  const single = serversOf(resolveProfile(name, 'single'));
  const clusterKafka = serversOf(resolveProfile(name, 'cluster')).filter((s) => s.name.startsWith('kafka'));
  return [...single, ...clusterKafka];
}

export function tailLog(spec: ServerSpec, lines: number): string {
  try {
    return fs.readFileSync(logFile(spec), 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}
