/**
 * The primary's ordered stop, phase by phase: each phase orders its processes to stop and
 * waits for their exits within its own share of the stop deadline; past it, those left are
 * killed and named in the log, and the next phase still has its whole share.
 */
import type { Logger } from '@tower/shared';

/** A process as a stop phase sees it. */
export interface Stoppable {
  /** `api 1`, `duties 0`. */
  name: string;
  /** Asks it to stop (the primary's order over IPC). */
  order(): void;
  kill(): void;
  /** Resolves at its exit. */
  exited: Promise<void>;
}

/** Stops `members` within `shareMs`; resolves true when all exited in time, false when some had to be killed. */
export async function stopPhase(phase: string, members: readonly Stoppable[], shareMs: number, logger: Logger): Promise<boolean> {
  if (members.length === 0) return true;
  const left = new Set(members);
  for (const member of members) void member.exited.then(() => left.delete(member));
  for (const member of members) member.order();
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.all(members.map((m) => m.exited)).then(() => true);
  const inTime = await Promise.race([all, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), shareMs)))]);
  clearTimeout(timer);
  if (inTime) return true;
  logger.error({ phase, shareMs, left: [...left].map((m) => m.name) }, 'slots stop phase past its share: killing the processes left');
  for (const member of left) member.kill();
  await all;
  return false;
}
