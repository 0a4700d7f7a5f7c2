/**
 * Waiting on a condition, without vitest: the drills (`npm run drill`) and the test
 * support they share with the integration tests run outside the test runner too.
 */

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
