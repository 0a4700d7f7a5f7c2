/**
 * Reliability drills (issue 17): a fault injected under load against real servers, with
 * a verdict and figures. Each drill is one function used twice: by its integration test
 * (`<name>.int.test.ts`, on the test servers) and by `npm run drill -- <name>` (main.ts),
 * which an SRE runs on this machine. A drill never damages the servers it is given: what
 * it kills (a broker, a ClickHouse, a Redis, a service) it starts itself, on its own
 * ports with its data under `workDir`, and its topics and databases have unique names.
 */
import type { Admin } from 'kafkajs';
import type { Logger } from '@tower/shared';
import type { TestInfra } from '@tower/shared/testing';

export interface DrillContext {
  /** The servers to run beside (endpoints, administrators' logins, every user's password). */
  infra: TestInfra;
  logger: Logger;
  /** A line of progress, printed as the drill goes (the CLI prints it; tests log it). */
  progress: (line: string) => void;
  /** An empty folder of the drill's own: standalone servers' data, registries, reports. */
  workDir: string;
}

/** A figure: a count (events sent, acknowledged, stored, lost), seconds of unavailability, … */
export type DrillFigures = Record<string, number | string>;

export interface DrillVerdict {
  drill: string;
  passed: boolean;
  figures: DrillFigures;
  /** What failed (empty when passed), and anything the operator should know. */
  findings: string[];
}

export interface Drill {
  name: string;
  /** One line: the fault and what must hold. */
  summary: string;
  run(context: DrillContext): Promise<DrillVerdict>;
}

/** The verdict as the CLI and the tests print it. */
export function describeVerdict(verdict: DrillVerdict): string {
  const lines = [`drill ${verdict.drill}: ${verdict.passed ? 'PASSED' : 'FAILED'}`];
  const width = Math.max(0, ...Object.keys(verdict.figures).map((k) => k.length));
  for (const [name, value] of Object.entries(verdict.figures)) lines.push(`  ${name.padEnd(width)}  ${typeof value === 'number' ? value.toLocaleString('en') : value}`);
  for (const finding of verdict.findings) lines.push(`  - ${finding}`);
  return lines.join('\n');
}

/**
 * What a drill undoes at the end, in reverse order of set-up: pushed as each thing is
 * made, so a failure half-way through still stops what was started. A failing step is
 * logged and the others still run.
 */
export function cleanupSteps(logger: Logger) {
  const steps: (() => Promise<unknown>)[] = [];
  return {
    push: (step: () => Promise<unknown>) => void steps.push(step),
    run: async () => {
      // Promise.resolve().then: a step that throws before returning its promise is caught too, and the others still run.
      for (const step of steps.reverse()) await Promise.resolve().then(step).catch((error: Error) => logger.warn({ err: error }, 'drill cleanup step failed'));
    },
  };
}

/** Messages behind the group's committed offsets, summed over the topics' partitions (a partition never committed counts from 0). */
export async function committedLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<number> {
  let behind = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    for (const end of ends) {
      const offset = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
      behind += Number(end.high) - Math.max(0, offset);
    }
  }
  return behind;
}
