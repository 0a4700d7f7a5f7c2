import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newClusterId, removeCrashedPartTemporaries } from './servers.ts';

describe('newClusterId', () => {
  it('draws again when the id would start with "-" (read as an option by kafka-storage)', () => {
    const draws = [Buffer.from('fb' + '00'.repeat(15), 'hex'), Buffer.from('01'.repeat(16), 'hex')];
    expect(draws[0]!.toString('base64url').startsWith('-')).toBe(true);
    let calls = 0;
    const id = newClusterId(() => draws[calls++]!);
    expect(calls).toBe(2);
    expect(id).toBe(draws[1]!.toString('base64url'));
  });

  it('makes 22-character URL-safe ids', () => {
    for (let i = 0; i < 200; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});

describe('removeCrashedPartTemporaries', () => {
  it("removes a killed server's half-written parts in every table and keeps the parts, mutations and detached parts", () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clickhouse-leftovers-'));
    try {
      const table = (db: string, name: string) => path.join(dataDir, 'data', 'data', db, name);
      const kept = [path.join(table('tower', 'throughput_1h'), '202611_1_7_1'), path.join(table('tower', 'throughput_1h'), 'detached'), path.join(table('drill', 'truck_events'), '202611_2_2_0')];
      const leftovers = [path.join(table('tower', 'throughput_1h'), 'tmp_merge_202611_1_13_2_8'), path.join(table('drill', 'truck_events'), 'tmp_insert_202611_6_6_0'), path.join(table('drill', 'truck_events'), 'tmp_mut_202611_2_2_0_9')];
      for (const dir of [...kept, ...leftovers]) fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(leftovers[0]!, 'checksums.txt'), 'half');
      fs.writeFileSync(path.join(table('tower', 'throughput_1h'), 'mutation_14.txt'), 'DELETE WHERE 1');

      expect(removeCrashedPartTemporaries(dataDir).sort()).toEqual([...leftovers].sort());
      for (const dir of leftovers) expect(fs.existsSync(dir)).toBe(false);
      for (const dir of kept) expect(fs.existsSync(dir)).toBe(true);
      expect(fs.existsSync(path.join(table('tower', 'throughput_1h'), 'mutation_14.txt'))).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('finds nothing to do in a server never started', () => {
    expect(removeCrashedPartTemporaries(path.join(os.tmpdir(), 'no-such-clickhouse'))).toEqual([]);
  });
});
