import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deriveFamilySchema } from './events/avro.ts';
import { eventFamilies } from './events/model.ts';
import { topicCatalog } from './kafka/topic-catalog.ts';

/** docs/ARCHITECTURE.md states facts the code decides; these checks keep the two saying the same. */
const architecture = fs.readFileSync(fileURLToPath(new URL('../../docs/ARCHITECTURE.md', import.meta.url)), 'utf8');

/** The cells of the row of `topic` in the "Kafka topic catalog" table, `\|` unescaped and backticks dropped. */
function catalogRow(topic: string): string[] {
  const section = architecture.slice(architecture.indexOf('## Kafka topic catalog'));
  const row = section.split('\n').find((line) => line.startsWith(`| \`${topic}\` |`));
  if (!row) throw new Error(`docs/ARCHITECTURE.md: no row for ${topic} in the topic catalog table`);
  return row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((cell) => cell.trim().replaceAll('\\|', '|').replaceAll('`', ''));
}

describe('docs/ARCHITECTURE.md', () => {
  it('names every topic of the catalog with its partitions and message key as shared/src/kafka/topic-catalog.ts does', () => {
    const documented = topicCatalog.map((spec) => {
      const [name, partitions, , key] = catalogRow(spec.name);
      return { name, partitions, key };
    });
    expect(documented).toEqual(topicCatalog.map((spec) => ({ name: spec.name, partitions: String(spec.partitions), key: spec.key })));
  });

  it('describes the dead-letter key as the consumer runner sets it: the source message’s own key', () => {
    // shared/src/kafka/consumer.ts sends a dead letter with `key: message.key` (consumer.int.test.ts checks it).
    expect(architecture).toMatch(/goes to `tower\.deadletter\.v1` with the original key/);
    expect(topicCatalog.find((spec) => spec.name === 'tower.deadletter.v1')?.key).toMatch(/^the source message’s key\b/);
  });

  it('says which Avro type the event records give `type`', () => {
    const typeOf = (family: (typeof eventFamilies)[number]) => deriveFamilySchema(family).fields.find((f) => f.name === 'type')?.type;
    const types = new Set(eventFamilies.map((family) => JSON.stringify(typeOf(family))));
    expect([...types]).toEqual(['"string"']);
    expect(/with `type`\s+as an? (\w+)/.exec(architecture)?.[1]).toBe('string');
  });
});
