/**
 * Waiting on a condition, without vitest: the drills (`npm run drill`) and the test
 * support they share with the integration tests run outside the test runner too.
 */
import { randomBytes } from 'node:crypto';

/** A pause between steps of a load loop (never a wait on a condition: that is `eventually`). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A short random suffix for names that must not collide between tests and runs. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Polls until `probe` returns a value (not undefined) or the deadline passes. Never a fixed sleep. */
export async function eventually<T>(probe: () => Promise<T | undefined>, options: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${options.what ?? 'condition'}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
