import type { Logger } from '@tower/shared';
import type { RedisSlotStore } from '../store/slot-store.ts';

/**
 * Once, when the service starts: the trucks of live bookings made before fleets existed
 * join their booking firm's fleet (beyond its cap if need be: the booking stands), so no
 * other firm can register them and then be told plate-already-booked. Logged with counts;
 * a truck another firm registered meanwhile is left as it is, named by count for an operator.
 */
export async function adoptBookedTrucks(store: RedisSlotStore, at: number, logger: Logger): Promise<void> {
  const outcome = await store.adoptBookedTrucks(at);
  if (!outcome) return;
  if (outcome.claimed > 0) logger.warn(outcome, 'trucks booked before fleets: some are in another firm’s fleet than their booking’s; an operator checks them (GET /v1/fleet/trucks?firm=)');
  else logger.info(outcome, 'trucks booked before fleets joined their booking firm’s fleet');
}
