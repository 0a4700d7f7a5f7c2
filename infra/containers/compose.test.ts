import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { topicCatalog } from '../../shared/src/kafka/topic-catalog.ts';
import { repoRoot } from '../local/profiles.ts';
import { discoverServices } from '../local/services.ts';
import { composeDocument, composeFile } from './compose.ts';

const committed = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');

describe('docker-compose.yml', () => {
  it('is what the generator makes from the shared catalog (run npm run compose:generate)', () => {
    expect(committed).toBe(composeFile());
  });

  it('parses as YAML into the same document', () => {
    expect(parse(committed)).toEqual(JSON.parse(JSON.stringify(composeDocument())));
  });

  it('runs every service and provisions topics and migrations before them', () => {
    const document = parse(committed) as { services: Record<string, { command?: string[]; depends_on?: Record<string, unknown>; environment?: Record<string, string> }> };
    expect(document.services['provision']?.command).toContain('infra/provision/main.ts');
    for (const service of discoverServices()) {
      expect(document.services[service.name]?.depends_on).toHaveProperty('provision');
      expect(document.services[service.name]?.environment?.['KAFKA_BROKERS']).toBe('kafka:29092');
    }
    // Topics are created by the provision job from the catalog, never by the broker.
    expect(document.services['kafka']?.environment?.['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
    expect(topicCatalog.length).toBeGreaterThan(0);
  });
});
