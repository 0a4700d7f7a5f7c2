import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually } from '@tower/shared/testing/eventually';
import { stopService, type Running } from './service-processes.ts';

/** A process that ignores SIGTERM (a service stuck in its shutdown), as startService runs one. */
function stuckService(): Running {
  let stderr = '';
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => undefined); process.stderr.write('ready'); setInterval(() => undefined, 1000);"], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, port: 0, stderr: () => stderr, stdout: () => '' };
}

describe('stopService', () => {
  it('SIGKILLs a service that does not exit on SIGTERM within its grace, instead of waiting forever', { timeout: 60_000 }, async () => {
    const service = stuckService();
    // Should the test fail, the process does not outlive it.
    onTestFinished(() => void (service.child.exitCode === null && service.child.signalCode === null && service.child.kill('SIGKILL')));
    await eventually(async () => (service.stderr() === 'ready' ? true : undefined), { timeoutMs: 30_000, what: 'the stuck process to ignore SIGTERM' });
    await stopService(service, 500);
    expect(service.child.signalCode).toBe('SIGKILL');
  });

  it('lets a service that exits on SIGTERM end by itself', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['-e', "process.stderr.write('ready'); setInterval(() => undefined, 1000);"], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await eventually(async () => (stderr === 'ready' ? true : undefined), { timeoutMs: 30_000, what: 'the process to start' });
    await stopService({ child, port: 0, stderr: () => stderr, stdout: () => '' }, 30_000);
    expect(child.signalCode).toBe('SIGTERM');
  });
});
