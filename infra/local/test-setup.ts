/**
 * vitest global setup for integration tests: real Kafka, ClickHouse and Redis (and the
 * profile's Prometheus and exporters) for the whole run. Local processes of the `test`
 * profile (own ports and data, never the demo's) by default; containers through
 * testcontainers where a Docker engine answers (no Prometheus there).
 * TOWER_TEST_INFRA=local|containers forces one. Whatever this setup started it stops
 * at the end, even when tests fail; set TOWER_TEST_KEEP_INFRA=1 to keep the servers up
 * between runs while iterating. TOWER_TEST_PROFILE=bench runs them on the
 * benchmark profile's servers instead of the test profile's.
 *
 * The servers run with their users on (Kafka SASL/SCRAM and ACLs, ClickHouse and Redis
 * passwords); the tests' clients log in as the administrators, and `credentials` holds
 * every user's password for the tests of what each user may do.
 */
import type { TestProject } from 'vitest/node';
import { dockerEngineAnswers, startTestContainers } from '../containers/testcontainers.ts';
import { downInfra, upInfra } from './infra.ts';
import { adminEnv, ensureInfraCredentials } from './infra-credentials.ts';
import { endpointsOf, resolveProfile, type ProfileName } from './profiles.ts';

const report = (line: string) => process.stdout.write(`[test infra] ${line}\n`);

declare module 'vitest' {
  export interface ProvidedContext {
    /** The profile whose Prometheus scrapes the test servers; null where the servers are containers (no Prometheus). */
    monitoringProfile: ProfileName | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const requested = process.env['TOWER_TEST_INFRA'];
  if (requested !== undefined && requested !== 'local' && requested !== 'containers') {
    throw new Error(`TOWER_TEST_INFRA must be local or containers, got '${requested}'`);
  }
  const mode = requested ?? ((await dockerEngineAnswers()) ? 'containers' : 'local');
  if (mode === 'containers') {
    report('starting Kafka, ClickHouse and Redis containers (testcontainers)');
    const containers = await startTestContainers();
    project.provide('infra', containers.infra);
    project.provide('monitoringProfile', null);
    return containers.stop;
  }
  const profileName = process.env['TOWER_TEST_PROFILE'] ?? 'test';
  if (profileName !== 'test' && profileName !== 'bench') throw new Error(`TOWER_TEST_PROFILE must be test or bench, got '${profileName}'`);
  const profile = resolveProfile(profileName satisfies ProfileName);
  const credentials = ensureInfraCredentials(profile.root);
  const outcomes = await upInfra(profile, report);
  project.provide('infra', { ...endpointsOf(profile), ...adminEnv(credentials), credentials });
  project.provide('monitoringProfile', profile.name);
  return async () => {
    if (process.env['TOWER_TEST_KEEP_INFRA'] === '1') return;
    const startedHere = new Set([...outcomes].filter(([, outcome]) => outcome !== 'already-running').map(([name]) => name));
    await downInfra(profile.name, report, startedHere);
  };
}
