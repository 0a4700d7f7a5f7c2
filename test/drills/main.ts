/**
 * `npm run drill -- <name> [--profile dev|test]`: runs one reliability drill on this
 * machine beside the profile's servers (started when they are not running: the dev
 * profile's are those of `npm start`), prints its progress and verdict, exits 1 when it
 * fails. `npm run drill -- list` lists the drills. What a drill kills it starts itself
 * (its own ports, data in a temporary folder), so the stack it runs beside keeps its data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '@tower/shared';
import { upInfra } from '../../infra/local/infra.ts';
import { adminEnv, ensureInfraCredentials } from '../../infra/local/infra-credentials.ts';
import { endpointsOf, resolveProfile } from '../../infra/local/profiles.ts';
import { describeVerdict } from './drill.ts';
import { drills } from './index.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string): never => {
  process.stderr.write(`drill: ${message}\n`);
  process.exit(2);
};

const { positionals, values } = parseArgs({ allowPositionals: true, options: { profile: { type: 'string', default: 'dev' }, keep: { type: 'boolean', default: false } } });
const [name] = positionals;
if (!name || name === 'list') {
  for (const drill of drills) print(`${drill.name.padEnd(24)} ${drill.summary}`);
  if (!name) print('\nusage: npm run drill -- <name> [--profile dev|test] [--keep]');
  process.exit(name ? 0 : 2);
}
const drill = drills.find((d) => d.name === name) ?? fail(`no drill named '${name}'; drills: ${drills.map((d) => d.name).join(', ') || 'none yet'}`);
if (values.profile !== 'dev' && values.profile !== 'test') fail(`--profile must be dev or test, not '${values.profile}'`);
const profile = resolveProfile(values.profile === 'test' ? 'test' : 'dev');
const credentials = ensureInfraCredentials(profile.root);
await upInfra(profile, (line) => print(`[servers] ${line}`));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `drill-${drill.name}-`));
const logger = createLogger({ service: 'drill', level: 'warn' });
const started = Date.now();
print(`drill ${drill.name}: ${drill.summary}`);
try {
  const verdict = await drill.run({
    infra: { ...endpointsOf(profile), ...adminEnv(credentials), credentials },
    logger,
    progress: (line) => print(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`),
    workDir,
  });
  print('');
  print(describeVerdict(verdict));
  process.exitCode = verdict.passed ? 0 : 1;
} finally {
  if (values.keep) print(`drill files kept in ${workDir}`);
  else fs.rmSync(workDir, { recursive: true, force: true });
}
