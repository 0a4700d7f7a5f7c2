/** Drill 3 in the suite: a live gateway SIGKILLed with walls connected (test/drills/gateway-kill.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { describeVerdict } from './drill.ts';
import { gatewayKill } from './gateway-kill.ts';

describe('drill gateway-kill (real servers, gateways and aggregator as processes)', () => {
  test(gatewayKill.summary, { timeout: 300_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-gateway-kill-'));
    try {
      const verdict = await gatewayKill.run({ infra, logger, progress: (line) => process.stdout.write(`[gateway-kill] ${line}\n`), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      const figures = verdict.figures;
      expect(figures['walls cut off by the kill']).toBeGreaterThan(0);
      expect(figures['deltas skipped unflagged']).toBe(0);
      expect(figures['streams resumed (replayed)']).toBe(2 * Number(figures['walls cut from the survivor (network)']));
      expect(figures['deltas after the kill']).toBeGreaterThan(0);
      expect(figures['walls equal to the history API']).toBe(figures['walls']);
      expect(figures['leadership handover, seconds']).toBeLessThanOrEqual(Number(figures['alert lease, seconds']) + 1);
      expect(figures['events stored']).toBe(figures['events sent']);
      expect(verdict.passed).toBe(true);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
