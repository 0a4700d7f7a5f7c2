import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@tower/shared';
import type { FleetObserver, RegistrationRefusal } from '../desk.ts';

/**
 * Refused truck registrations in /metrics (`tower_slots_fleet_refusals_total{reason}`), and
 * a warning naming the firm and its key for each truck found in another firm's fleet: a
 * firm probing which plates others have, or registering a rival's trucks, shows up.
 */
export class FleetRefusalWatch implements FleetObserver {
  private readonly refusals: Counter<'reason'>;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.refusals = new Counter({
      name: 'tower_slots_fleet_refusals_total',
      help: 'Truck registrations refused, by reason: plate-in-another-fleet, fleet-full, over-budget (the firm past FLEET_REFUSALS_PER_HOUR: 429)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  registrationRefused({ firm, keyId, reason, inHour, budget }: { firm: string; keyId: string; reason: RegistrationRefusal; inHour: number; budget: number }): void {
    this.refusals.inc({ reason });
    if (reason === 'plate-in-another-fleet') {
      this.logger.warn({ firm, keyId, inHour, budget }, 'a firm tried to register a truck in another firm’s fleet (past the budget its registrations wait: 429); check for plate probing or a disputed truck');
    }
  }
}
