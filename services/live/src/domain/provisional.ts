import type { ThroughputTick } from '@tower/shared';

/**
 * How long a provisional tick stands against confirmed ticks that do not yet hold its
 * newest event (a round read before its insert): they are older than what is shown, and
 * showing them would make the figures dip until the next round. Past this, a confirmed
 * tick wins anyway (the provisional tick's batch may never be stored as it was: a
 * refused event dead-lettered).
 */
export const provisionalTrustMs = 10_000;

/**
 * What a newly arrived tick of a window does to the one shown (`current`), for the
 * gateway's board and the wall alike: `refused` (not shown at all: a provisional tick
 * whose events a confirmed one already holds, or a confirmed tick of older events than
 * the provisional figures shown, within `provisionalTrustMs`), `replaces` (it is the
 * window's figures now; a confirmed tick always replaces a provisional one it covers),
 * or `older` (shown as a delta, but an older publication than the current one).
 */
export function tickSuccession(current: ThroughputTick | undefined, tick: ThroughputTick): 'refused' | 'replaces' | 'older' {
  if (!current) return 'replaces';
  if (tick.provisional && !current.provisional && current.newestIngestedAt >= tick.newestIngestedAt) return 'refused';
  if (current.provisional && !tick.provisional) return tick.newestIngestedAt < current.newestIngestedAt && tick.publishedAt - current.publishedAt < provisionalTrustMs ? 'refused' : 'replaces';
  return current.publishedAt <= tick.publishedAt ? 'replaces' : 'older';
}
