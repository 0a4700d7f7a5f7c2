/** Drill 5 in the suite: ClickHouse's disk, then Kafka's, filled under a stream of device events, then space freed (test/drills/disk-full.ts). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { test } from '@tower/shared/testing';
import { portIsOpen } from '../../infra/local/supervisor.ts';
import { diskFull, smallFilesystemRefusal } from './disk-full.ts';
import { cleanupSteps, describeVerdict } from './drill.ts';

const mounts = () => fs.readFileSync('/proc/mounts', 'utf8');

/** Removes the drill's folder; a filesystem its clean-up failed to unmount is detached first, so the drill's own error is the one reported. */
function removeWorkDir(workDir: string): void {
  for (const line of mounts().split('\n')) {
    const mountPoint = line.split(' ')[1];
    if (mountPoint?.startsWith(workDir)) execFileSync('umount', ['-l', mountPoint]);
  }
  fs.rmSync(workDir, { recursive: true, force: true });
}

describe('drill clean-up', () => {
  // Found by this drill: a step that threw before returning its promise ended the clean-up, leaving servers and mounts behind.
  test('a step that throws at once is logged and the steps before it in set-up order still run', async ({ logger }) => {
    const ran: string[] = [];
    const cleanup = cleanupSteps(logger);
    cleanup.push(async () => void ran.push('unmount'));
    cleanup.push(async () => void ran.push('stop server'));
    const notBuilt: { close(): Promise<void> } | undefined = undefined;
    cleanup.push(() => notBuilt!.close());
    await cleanup.run();
    expect(ran).toEqual(['stop server', 'unmount']);
  });
});

describe('drill disk-full (real servers)', () => {
  test(diskFull.summary, { timeout: 420_000 }, async ({ infra, logger, skip }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-disk-full-'));
    try {
      // Shown as skipped with its reason in the test output, never a silent pass.
      const refusal = await smallFilesystemRefusal(workDir);
      if (refusal) skip(`drill disk-full needs to mount a tmpfs: ${refusal}`);
      const verdict = await diskFull.run({ infra, logger, progress: (line) => logger.info(line), workDir });
      process.stdout.write(`${describeVerdict(verdict)}\n`);
      expect(verdict.findings).toEqual([]);
      expect(verdict.figures['acknowledged events lost']).toBe(0);
      expect(verdict.figures['events stored twice']).toBe(0);
      expect(verdict.figures['dead-lettered']).toBe(0);
      expect(verdict.figures['other answers']).toBe(0);
      expect(verdict.figures['answers refused (503 naming kafka)']).toBeGreaterThan(0);
      expect(verdict.figures['lag at the end (messages)']).toBe(0);
      expect(verdict.passed).toBe(true);
      // Cleaned up: both filesystems unmounted, both servers stopped.
      expect(mounts()).not.toContain(workDir);
      expect(await portIsOpen(27440)).toBe(false);
      expect(await portIsOpen(27450)).toBe(false);
    } finally {
      removeWorkDir(workDir);
    }
  });

  test('a failure while setting up unmounts what it mounted and stops what it started', { timeout: 180_000 }, async ({ infra, logger, skip }) => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-disk-full-'));
    try {
      const refusal = await smallFilesystemRefusal(workDir);
      if (refusal) skip(`drill disk-full needs to mount a tmpfs: ${refusal}`);
      // The server is set up with the right logins; the drill's own client, with a wrong password, fails at CREATE DATABASE.
      const refused = { ...infra, CLICKHOUSE_PASSWORD: `${infra.CLICKHOUSE_PASSWORD}-wrong` };
      await expect(diskFull.run({ infra: refused, logger, progress: (line) => logger.info(line), workDir })).rejects.toThrow();
      expect(mounts()).not.toContain(workDir);
      expect(await portIsOpen(27440)).toBe(false);
    } finally {
      removeWorkDir(workDir);
    }
  });
});
