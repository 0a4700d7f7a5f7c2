/**
 * Local infrastructure: real Kafka (KRaft), ClickHouse and Redis as processes.
 *
 *   npm run infra:up     [-- --profile dev|test|bench] [--cluster]
 *   npm run infra:down   [-- --profile dev|test|bench]
 *   npm run infra:status [-- --profile dev|test|bench]
 *   npm run infra:logs   [-- --profile dev|test|bench] [--lines N] [server]
 */
import { parseArgs } from 'node:util';
import { allSpecs, downInfra, statusInfra, tailLog, upInfra } from './infra.ts';
import { endpointsOf, profileNames, resolveProfile, type ProfileName } from './profiles.ts';

const usage = `usage: tower-infra <up|down|status|logs> [--profile dev|test|bench] [--cluster] [--lines N] [server]`;

function fail(message: string): never {
  process.stderr.write(`infra: ${message}\n`);
  process.exit(1);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'string', default: 'dev' },
    cluster: { type: 'boolean', default: false },
    lines: { type: 'string', default: '40' },
  },
});
const [command, ...rest] = positionals;
const isProfileName = (name: string): name is ProfileName => (profileNames as readonly string[]).includes(name);
if (!isProfileName(values.profile)) fail(`--profile must be one of ${profileNames.join(', ')}, not '${values.profile}'`);
const profileName: ProfileName = values.profile;
const print = (line: string) => process.stdout.write(`${line}\n`);

switch (command) {
  case 'up': {
    const profile = resolveProfile(profileName, values.cluster ? 'cluster' : 'single');
    try {
      await upInfra(profile, print);
    } catch (error) {
      fail((error as Error).message);
    }
    print('');
    for (const [name, value] of Object.entries(endpointsOf(profile))) print(`${name}=${value}`);
    break;
  }
  case 'down':
    await downInfra(profileName, print);
    print(`profile '${profileName}' stopped`);
    break;
  case 'status': {
    const statuses = await statusInfra(profileName);
    let unhealthy = false;
    // Kafka nodes of the mode that is not in use are noise; with none in use, show the single node.
    const kafkaInUse = statuses.some((s) => s.name.startsWith('kafka') && s.state !== 'stopped');
    for (const s of statuses) {
      if (s.state === 'stopped' && s.name.startsWith(kafkaInUse ? 'kafka' : 'kafka-cluster')) continue;
      const ports = s.ports.map((p) => `${p.role} ${p.port} ${p.open ? 'open' : 'closed'}`).join(', ');
      const state = s.state === 'dead' ? `DEAD (pid ${s.pid} is gone; see ${s.log})` : s.state === 'running' ? `running (pid ${s.pid})` : 'stopped';
      if (s.state === 'dead' || (s.state === 'running' && s.ports.some((p) => !p.open))) unhealthy = true;
      print(`${s.label.padEnd(14)} ${state.padEnd(22)} ${ports}`);
    }
    process.exitCode = unhealthy ? 1 : 0;
    break;
  }
  case 'logs': {
    const lines = Number(values.lines);
    if (!Number.isInteger(lines) || lines <= 0) fail(`--lines must be a positive whole number, not '${values.lines}'`);
    const specs = allSpecs(profileName).filter((s) => rest.length === 0 || rest.includes(s.name));
    if (specs.length === 0) fail(`no server named ${rest.join(', ')}; servers: ${allSpecs(profileName).map((s) => s.name).join(', ')}`);
    for (const spec of specs) {
      const text = tailLog(spec, lines);
      if (text.trim()) print(`==> ${spec.label} (${spec.name})\n${text}`);
    }
    break;
  }
  default:
    fail(usage);
}
