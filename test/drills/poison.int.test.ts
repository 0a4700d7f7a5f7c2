import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { describeVerdict } from './drill.ts';
import { poisonDrill } from './poison.ts';

describe('drill poison', () => {
  test('a row ClickHouse refuses does not stall its partition: good events stored, the poison dead-lettered with its reason and in dead_letters, replayed once after the fix', async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-poison-'));
    try {
      const verdict = await poisonDrill.run({ infra, logger, progress: (line) => logger.info(line), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      expect(verdict.passed).toBe(true);
      expect(verdict.figures['lost']).toBe(0);
      expect(verdict.figures['dead letters in ClickHouse']).toBe(1);
      expect(verdict.figures['poison stored after the fix and two replays']).toBe(1);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }, 300_000);
});
