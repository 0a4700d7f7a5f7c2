/**
 * `npm run schemas:snapshot`: writes the current Avro record of each family as its next
 * version under shared/src/events/avro/ when it differs from the newest snapshot.
 * Commit the new file with the model change that made it.
 */
import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { deriveFamilySchema, fingerprintOf, loadSnapshots, snapshotDirectory } from './avro.ts';
import { eventFamilies } from './model.ts';

const snapshots = loadSnapshots();
for (const family of eventFamilies) {
  const schema = deriveFamilySchema(family);
  const fingerprint = fingerprintOf(avro.Type.forSchema(schema as avro.Schema));
  const mine = snapshots.filter((s) => s.family === family.name);
  if (mine.some((s) => s.fingerprint.equals(fingerprint))) {
    process.stdout.write(`${family.name}: unchanged (v${mine.find((s) => s.fingerprint.equals(fingerprint))?.version})\n`);
    continue;
  }
  const version = Math.max(0, ...mine.map((s) => s.version)) + 1;
  const file = path.join(snapshotDirectory, `${family.name}.v${version}.avsc`);
  fs.writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`${family.name}: wrote ${path.relative(process.cwd(), file)}\n`);
}
