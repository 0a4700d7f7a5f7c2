import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { loadSnapshots } from '../events/avro.ts';

/** The fastavro release the tests read with (installed by infra/local/bootstrap.sh --test). */
export const fastavroVersion = '1.12.2';

export type StrictReading = { ok: true; record: Record<string, unknown> } | { ok: false; error: string };

/**
 * Decodes single-object encoded event messages with fastavro (via fastavro_read.py),
 * an Avro implementation independent of avsc that decodes strings as strict UTF-8:
 * what it reads, every spec-following consumer of the topics can read. Writer schemas
 * are the committed snapshots.
 */
export function readWithFastavro(messages: readonly Buffer[]): StrictReading[] {
  const schemas = loadSnapshots().map((s) => ({ fingerprint: s.fingerprint.toString('hex'), schema: s.type.schema() }));
  const out = execFileSync('python3', [path.join(import.meta.dirname, 'fastavro_read.py')], {
    input: JSON.stringify({ schemas, messages: messages.map((m) => m.toString('base64')) }),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const { reader, results } = JSON.parse(out) as { reader: string; results: StrictReading[] };
  if (reader !== `fastavro ${fastavroVersion}`) throw new Error(`${reader} found; the tests read with fastavro ${fastavroVersion} (infra/local/bootstrap.sh --test)`);
  return results;
}
