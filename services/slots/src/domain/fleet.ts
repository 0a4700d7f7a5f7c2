import { chinesePlatePattern } from '@tower/shared';

/**
 * A firm's fleet: the trucks it registered, the only plates it may book. A truck (its
 * plate however written) is in one firm's fleet at a time; moving it to another firm is
 * an operator's transfer. The rules are the reference model's (SlotLedger) and the Redis
 * store's, in one vocabulary.
 */

/**
 * The truck a plate names: its characters without separators, so `14C-123.45` and
 * `14C12345` (both accepted) are one truck. Unambiguous for the accepted plates: a
 * Vietnamese plate has 5 digits after its series, or 6 with a series digit.
 */
export const truckOf = (plate: string) => plate.replace(/[-.·]/g, '');

export const truckCountries = ['VN', 'CN'] as const;
export type TruckCountry = (typeof truckCountries)[number];

/** What a firm says of a truck when it registers it. */
export interface TruckRegistration {
  plate: string;
  country: TruckCountry;
  trailerPlate?: string;
  driverName?: string;
  driverPhone?: string;
}

/** A truck of a firm's fleet, as stored and answered. */
export interface FleetTruck extends TruckRegistration {
  /** The plate without separators: the truck, however its plate is written. */
  plateKey: string;
  registeredAt: number;
}

export interface FleetRules {
  /** Most trucks one firm's fleet holds: a hostile firm cannot fill the store. */
  maxFleetTrucks: number;
  /**
   * Most registrations of one firm refused plate-in-another-fleet in an hour (the desk's
   * rule, not the ledger's): past it the firm's registrations wait, so it cannot probe
   * which plates other firms have, nor squat a rival's fleet plate by plate unnoticed.
   */
  registrationRefusalsPerHour: number;
}

/** Why a fleet change is refused; the API maps each to a problem naming it. */
export type FleetRefusal = 'plate-in-another-fleet' | 'fleet-full' | 'truck-not-in-fleet' | 'truck-has-bookings';

/** Registered (`created`), or registered again by its owner (details updated, `registeredAt` kept). */
export type RegisterOutcome = { ok: true; truck: FleetTruck; created: boolean } | { ok: false; refusal: Extract<FleetRefusal, 'plate-in-another-fleet' | 'fleet-full'> };
export type RemoveOutcome = { ok: true } | { ok: false; refusal: Extract<FleetRefusal, 'truck-not-in-fleet' | 'truck-has-bookings'> };
/**
 * Moved to `toFirm` (from `fromFirm`; the same firm when it had it already). Refused while
 * the firm that has it holds or confirmed `bookings` of it still ahead: they would tell
 * the new owner of them (its holds refused plate-already-booked) and stay the old firm's
 * to confirm; an operator cancels them first.
 */
export type TransferOutcome =
  | { ok: true; truck: FleetTruck; fromFirm: string }
  | { ok: false; refusal: Extract<FleetRefusal, 'truck-not-in-fleet' | 'fleet-full'> }
  | { ok: false; refusal: 'truck-has-bookings'; bookings: number };

const chinesePlate = new RegExp(chinesePlatePattern);

/** The country of a booking's plate (a Chinese plate, else Vietnamese: a booking's plate is one of the two). */
export const countryOf = (plate: string): TruckCountry => (chinesePlate.test(plate) ? 'CN' : 'VN');

/**
 * What the one-off adoption of trucks booked before fleets existed did: each live booking
 * whose truck had no owner put the truck in its firm's fleet (`registered`); `claimed`
 * counts trucks another firm had registered meanwhile (left as they are, to an operator).
 */
export interface AdoptionOutcome {
  bookings: number;
  registered: number;
  claimed: number;
}

/** The truck as a fleet keeps it: only the details given, its plate key, when it entered the fleet. */
export function fleetTruck(registration: TruckRegistration, registeredAt: number): FleetTruck {
  const { plate, country, trailerPlate, driverName, driverPhone } = registration;
  return {
    plate,
    plateKey: truckOf(plate),
    country,
    ...(trailerPlate !== undefined ? { trailerPlate } : {}),
    ...(driverName !== undefined ? { driverName } : {}),
    ...(driverPhone !== undefined ? { driverPhone } : {}),
    registeredAt,
  };
}
