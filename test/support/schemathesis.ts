/**
 * Runs schemathesis (PyPI, installed by `infra/local/bootstrap.sh --test`) against a
 * service's OpenAPI document and gives back its verdict and report.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The version of record, which `infra/local/bootstrap.sh --test` installs; another is refused so results stay comparable. */
const bootstrap = fs.readFileSync(path.resolve(import.meta.dirname, '../../infra/local/bootstrap.sh'), 'utf8');
const schemathesisVersion = /^SCHEMATHESIS_VERSION="([^"]+)"/m.exec(bootstrap)?.[1];

/**
 * What every run checks: no 5xx; every status code, content type, header and body
 * is one the operation's OpenAPI declaration allows; an operation that declares a
 * bearer scheme refuses a request without it or with a wrong one; a request without a
 * required header (Idempotency-Key) is refused.
 */
const fuzzChecks = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'ignored_auth',
  'missing_required_header',
];

export interface FuzzRun {
  /** e.g. `ingest`, for the report. */
  name: string;
  /** The service's address, `http://127.0.0.1:<port>`; its document is at /docs/json. */
  baseUrl: string;
  /** Sent with every request: a Bearer token the caller has seen accepted. */
  authorization: string;
  /** Test cases per operation and phase. */
  maxExamples: number;
  seed: number;
  /**
   * Values that get a request past validation to the logic behind it (a window open for
   * booking, a plate with journeys, an open alert), keyed `path.id`, `query.from`,
   * `body.windowStart`, `body.[*].site`...: each generated value is replaced by one of
   * them half of the time (schemathesis dictionaries), the rest is fuzzed.
   */
  hints?: Record<string, readonly (string | number)[]>;
}

export interface FuzzResult {
  passed: boolean;
  /** schemathesis's own output: the failures with a curl line to reproduce each. */
  output: string;
  /** Test cases generated and operations tested, from schemathesis's summary. */
  cases: number;
  operations: number;
  durationMs: number;
}

const run = (args: string[], cwd?: string) =>
  new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    // Asynchronous: the services under test answer from this very process.
    const env = { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', SCHEMATHESIS_HOOKS: 'schemathesis_hooks', PYTHONPATH: import.meta.dirname };
    const child = spawn('python3', ['-m', 'schemathesis.cli', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });

/** Fails with what to do when schemathesis is missing or another version. */
export async function requireSchemathesis(): Promise<void> {
  const { code, output } = await run(['--version']);
  if (!schemathesisVersion) throw new Error('infra/local/bootstrap.sh names no SCHEMATHESIS_VERSION');
  if (code !== 0 || !output.includes(`version ${schemathesisVersion}`)) {
    const install = `run infra/local/bootstrap.sh --test, or python3 -m pip install schemathesis==${schemathesisVersion}`;
    throw new Error(`schemathesis ${schemathesisVersion} is needed (${install}); found: ${output.trim()}`);
  }
}

/**
 * Warnings that fail a run, since they mean it tested less than it seems: the seeded
 * data is not found, a hint matches no parameter, requests were rate-limited. Not
 * missing_auth (mostly 401/403 on an operation): a role refused an operation by design
 * (an operator holding a place) says it too; the caller checks its token works.
 * Not validation_mismatch: windows, lanes of a site and event times are checked
 * against the clock and the catalog, which no schema says.
 */
const failOnWarnings = ['unused_openapi_auth', 'missing_test_data', 'dictionary_mismatch', 'missing_deserializer', 'rate_limited'];

/** schemathesis.toml (read from the working directory): a dictionary per hinted parameter. */
function configOf(hints: Record<string, readonly (string | number)[]>): string {
  const entries = Object.entries(hints);
  return [
    `warnings = { fail-on = ${JSON.stringify(failOnWarnings)} }`,
    '[dictionaries]',
    ...entries.map(([, values], i) => `hint${i} = { values = ${JSON.stringify(values)} }`),
    '[parameters]',
    ...entries.map(([key], i) => `${JSON.stringify(key)} = { dictionary = "hint${i}", probability = 0.5 }`),
    '',
  ].join('\n');
}

/** Runs every phase schemathesis has (examples, coverage, fuzzing, stateful) with the given bounds. */
export async function fuzz(options: FuzzRun): Promise<FuzzResult> {
  // Its working directory: schemathesis reads ./schemathesis.toml and keeps `st replay` data in ./.schemathesis.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tower-fuzz-'));
  fs.writeFileSync(path.join(scratch, 'schemathesis.toml'), configOf(options.hints ?? {}));
  const args = [
    'run', `${options.baseUrl}/docs/json`,
    '--checks', fuzzChecks.join(','),
    '--header', `Authorization: ${options.authorization}`,
    '--seed', String(options.seed),
    '--max-examples', String(options.maxExamples),
    // A busy 2-core machine: generous per request, and no health check on slow generation.
    '--request-timeout', '30',
    '--suppress-health-check', 'too_slow',
    '--workers', '1',
    '--generation-database', 'none',
    // Every failure of an operation, not only its first.
    '--continue-on-failure',
    '--no-color',
  ];
  const started = Date.now();
  try {
    const { code, output } = await run(args, scratch);
    const count = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? Number.NaN);
    const cases = count(/Test cases:\s+(\d+) generated/);
    return { passed: code === 0, output, cases, operations: count(/Tested: (\d+)/), durationMs: Date.now() - started };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
