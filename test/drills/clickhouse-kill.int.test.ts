/** Drill 2 in the suite: ClickHouse SIGKILLed mid-insert under the aggregator, then everything reconciled (test/drills/clickhouse-kill.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { portIsOpen } from '../../infra/local/supervisor.ts';
import { clickhouseKill } from './clickhouse-kill.ts';
import { describeVerdict } from './drill.ts';

describe('drill clickhouse-kill (real servers)', () => {
  test(clickhouseKill.summary, { timeout: 300_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-clickhouse-kill-'));
    try {
      const verdict = await clickhouseKill.run({ infra, logger, progress: (line) => logger.info(line), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      expect(verdict.figures['events lost']).toBe(0);
      expect(verdict.figures['events stored twice']).toBe(0);
      expect(verdict.figures['lanes where 1-minute ≠ raw']).toBe(0);
      expect(verdict.figures['lanes where 1-hour ≠ raw']).toBe(0);
      expect(verdict.figures['lag at the end (messages)']).toBe(0);
      expect(verdict.passed).toBe(true);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  test('a failure while setting up stops the standalone ClickHouse it started (no port clash on the next run)', { timeout: 180_000 }, async ({ infra, logger }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-clickhouse-kill-'));
    try {
      // The server is set up with the right logins; the drill's own client, with a wrong password, fails at CREATE DATABASE.
      const refused = { ...infra, CLICKHOUSE_PASSWORD: `${infra.CLICKHOUSE_PASSWORD}-wrong` };
      await expect(clickhouseKill.run({ infra: refused, logger, progress: (line) => logger.info(line), workDir })).rejects.toThrow();
      expect(await portIsOpen(27400)).toBe(false);
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });
});
