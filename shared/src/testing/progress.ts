/**
 * Waits whose deadline comes from progress, not from the clock: on a busy machine a
 * stream of 20,000 events takes longer to store than on a quiet one, but it keeps
 * moving. Such a wait fails when its figure (events stored, messages received) has
 * stood still for `stallMs`, and only otherwise after a generous overall cap.
 */

export interface ProgressingWait<T> {
  /** What is awaited, for the failure message. */
  what: string;
  /** A figure that moves while the system works towards the condition. A throw counts as no movement (a server away). */
  progress: () => number | Promise<number>;
  /** The condition on the figure just read: a value (not undefined) once it holds. A throw counts as not yet. */
  until: (figure: number) => T | undefined | Promise<T | undefined>;
  /** How long the figure may stand still before the wait fails (default 30 s, what most fixed waits allowed in all). */
  stallMs?: number;
  /** The wait fails after this long even while the figure moves (default 10 minutes: the test's own timeout usually comes first). */
  capMs?: number;
  /** Between two reads (default 50 ms). */
  intervalMs?: number;
  /**
   * Only a new highest figure counts as movement (default: any change). For a figure that
   * can oscillate while nothing advances (a count of differences, a lag under rebalances).
   */
  monotone?: boolean;
}

const defaultStallMs = 30_000;
const defaultCapMs = 600_000;

/** The condition for a count that must reach `target`: the count itself once it has. */
export const atLeast =
  (target: number) =>
  (figure: number): number | undefined =>
    figure >= target ? figure : undefined;

/**
 * Polls until `until` holds on the figure `progress` reads. Fails when the figure has
 * not changed for `stallMs` (no progress), or after `capMs` whatever it does. A read (or
 * condition) that does not answer is raced against the stall time left: a hung server
 * fails the wait like a figure standing still.
 */
export async function eventuallyProgressing<T>(wait: ProgressingWait<T>): Promise<T> {
  const stallMs = wait.stallMs ?? defaultStallMs;
  const startedAt = Date.now();
  const capAt = startedAt + (wait.capMs ?? defaultCapMs);
  let figure: number | undefined;
  let movedAt = startedAt;
  let lastError: unknown;
  const moved = (read: number) => figure === undefined || (wait.monotone ? read > figure : !Object.is(read, figure));
  const attempt = async (): Promise<T | undefined> => {
    const read = await wait.progress();
    lastError = undefined;
    if (moved(read)) {
      if (figure !== undefined) movedAt = Date.now();
      figure = read;
    }
    return wait.until(read);
  };
  for (;;) {
    try {
      const value = await withinMs(attempt(), Math.min(movedAt + stallMs, capAt) - Date.now());
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const now = Date.now();
    const seen = `${figure === undefined ? 'never read' : `at ${figure}`} after ${((now - startedAt) / 1000).toFixed(1)} s`;
    const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    if (now - movedAt >= stallMs) throw new Error(`timed out waiting for ${wait.what}: no progress for ${stallMs / 1000} s (${seen})${cause}`);
    if (now >= capAt) throw new Error(`timed out waiting for ${wait.what}: still progressing but over the ${(capAt - startedAt) / 1000} s cap (${seen})${cause}`);
    await new Promise((resolve) => setTimeout(resolve, wait.intervalMs ?? 50));
  }
}

/** `pending`, or a rejection once `ms` (at least 0) have passed without its answer. */
async function withinMs<V>(pending: Promise<V>, ms: number): Promise<V> {
  const askedAt = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a read unanswered after ${((Date.now() - askedAt) / 1000).toFixed(1)} s when the time ran out`)), Math.max(0, ms));
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}
