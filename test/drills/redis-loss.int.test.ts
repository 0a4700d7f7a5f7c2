/** Drill 6 in the suite: Redis SIGKILLed with a live gateway, then with the gateway and slots (test/drills/redis-loss.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { describeVerdict } from './drill.ts';
import { redisLoss } from './redis-loss.ts';

describe('drill redis-loss (real servers, services as processes)', () => {
  test(redisLoss.summary, { timeout: 600_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-redis-loss-'));
    try {
      const verdict = await redisLoss.run({ infra, logger, progress: (line) => process.stdout.write(`[redis-loss] ${line}\n`), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      expect(verdict.figures['bookings lost']).toBe(0);
      expect(verdict.figures['windows over capacity']).toBe(0);
      expect(verdict.figures['trucks booked twice in a window']).toBe(0);
      expect(verdict.figures['acknowledgements back with who (API, wall, Redis)']).toBe(verdict.figures['alerts open before the faults']);
      expect(verdict.figures['2xx while down']).toBe(0);
      expect(verdict.figures['other answers while down']).toBe(0);
      expect(verdict.passed).toBe(true);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
