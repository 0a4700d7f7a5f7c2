/**
 * The load generator (Artillery, MPL-2.0) is a pinned package of its own
 * (loadtests/kit: package.json + package-lock.json), about 460 MB with its cloud SDKs,
 * so it is installed on demand (npm ci from the committed lock), never with the
 * workspaces. Its Playwright dependency downloads no browser; telemetry is off.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const kitDirectory = path.resolve(import.meta.dirname, '../kit');
const artilleryPackage = path.join(kitDirectory, 'node_modules/artillery/package.json');

const kitEnv = { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1', ARTILLERY_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: '1' };

function pinnedVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(kitDirectory, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return manifest.dependencies['artillery'] ?? '';
}

function installedVersion(): string | undefined {
  return fs.existsSync(artilleryPackage) ? (JSON.parse(fs.readFileSync(artilleryPackage, 'utf8')) as { version: string }).version : undefined;
}

/** Installs the kit when it is missing or another version; resolves with Artillery's version. */
export async function ensureKit(say: (line: string) => void): Promise<string> {
  const pinned = pinnedVersion();
  if (installedVersion() === pinned) return pinned;
  say(`installing the load generator (Artillery ${pinned}, npm ci in ${path.relative(process.cwd(), kitDirectory) || '.'}; a few minutes the first time)`);
  await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: kitDirectory, env: { ...process.env, ...kitEnv }, maxBuffer: 64 * 1024 * 1024 });
  const version = installedVersion();
  if (version !== pinned) throw new Error(`the kit installed Artillery ${version ?? 'nothing'}, not ${pinned}`);
  return pinned;
}

/**
 * Bundles a TypeScript module into one CommonJS file with the kit's esbuild (the
 * repository is ESM, so Artillery's own bundle would not load). `defaultExport`: the
 * file exports its default export itself (Artillery calls a reporter module as it is).
 */
export function bundleProcessor(entry: string, outfile: string, defaultExport = false): void {
  const esbuild = createRequire(artilleryPackage)('esbuild-wasm') as { buildSync(options: Record<string, unknown>): unknown };
  esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error', ...(defaultExport ? { footer: { js: 'module.exports = module.exports.default;' } } : {}) });
}

/**
 * Bundles an Artillery engine (`artillery-engine-<name>`) as a package under
 * `enginesDirectory`, where `runArtillery` lets Artillery find it (NODE_PATH): Artillery
 * loads an engine by package name, and the kit's own node_modules is installed from its lock.
 */
export function bundleEngine(entry: string, name: string, enginesDirectory: string): void {
  const packageDirectory = path.join(enginesDirectory, `artillery-engine-${name}`);
  fs.mkdirSync(packageDirectory, { recursive: true });
  fs.writeFileSync(path.join(packageDirectory, 'package.json'), JSON.stringify({ name: `artillery-engine-${name}`, private: true, main: 'index.cjs' }));
  bundleProcessor(entry, path.join(packageDirectory, 'index.cjs'), true);
}

export interface ArtilleryRun {
  /** Its exit code (130 after `stop`). */
  exit: Promise<number>;
  /** Stops it as Ctrl-C does: no new arrivals, the workers shut down; it writes no JSON output then (the periods file has what it reported). */
  stop(): void;
}

/**
 * Runs one Artillery script; its progress lines go to `say` with the part's name. Every
 * period it reports is appended to `periodsFile` as it goes (the period reporter). The
 * engines bundled by `bundleEngine` into `enginesDirectory` can be loaded.
 */
export function runArtillery(script: string, output: string, part: string, say: (line: string) => void, reporter: { module: string; periodsFile: string }, enginesDirectory?: string): ArtilleryRun {
  const nodePath = [enginesDirectory, process.env['NODE_PATH']].filter(Boolean).join(path.delimiter);
  const child = spawn(process.execPath, [path.join(kitDirectory, 'node_modules/artillery/bin/run'), 'run', '--output', output, script], {
    cwd: path.dirname(script),
    env: { ...process.env, ...kitEnv, CUSTOM_REPORTERS: reporter.module, TOWER_PERIODS_FILE: reporter.periodsFile, ...(nodePath ? { NODE_PATH: nodePath } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) say(`[${part}] ${line}`);
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  return {
    exit: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? 1));
    }),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGINT');
    },
  };
}
