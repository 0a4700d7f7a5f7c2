import { Type, type Static } from '@sinclair/typebox';
import { BookingPlate, firmIdPattern, VietnamTime } from '@tower/shared';
import { truckCountries } from '../domain/fleet.ts';

/**
 * The fleet API's request and response schemas, declared once: fastify validates and
 * serialises with them, and /docs is built from them.
 */
const country = Type.Unsafe<(typeof truckCountries)[number]>({ type: 'string', enum: [...truckCountries], description: 'country of the plate: VN (14C-123.45) or CN (桂A12345)' });
const firm = (description: string) => Type.String({ pattern: firmIdPattern, description });

export const TruckRegistration = Type.Object(
  {
    plate: BookingPlate,
    country,
    trailerPlate: Type.Optional(Type.String({ ...BookingPlate, description: 'the trailer’s plate, if it has one (14R-012.34)' })),
    driverName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'the driver the dispatcher calls' })),
    driverPhone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ]{5,19}$', description: 'the driver’s phone, digits (and spaces), optionally with + and the country code', examples: ['+84 912 345 678'] })),
  },
  { additionalProperties: false, title: 'TruckRegistration' },
);

export const FleetTruckView = Type.Object(
  {
    plate: BookingPlate,
    plateKey: Type.String({ description: 'the plate without separators: 14C-123.45 and 14C12345 are one truck (a plate is in one fleet at a time)' }),
    country,
    trailerPlate: Type.Optional(Type.String()),
    driverName: Type.Optional(Type.String()),
    driverPhone: Type.Optional(Type.String()),
    registeredAt: Type.Integer({ minimum: 0, description: 'when the truck entered this fleet (registered, or transferred in), ms since the epoch' }),
    registeredAtIso: VietnamTime('when the truck entered this fleet'),
  },
  { additionalProperties: false, title: 'FleetTruck' },
);
export type FleetTruckView = Static<typeof FleetTruckView>;

export const fleetSchemas = {
  TruckRegistration,
  FleetTruckView,
  FleetList: Type.Object({ trucks: Type.Array(FleetTruckView) }, { title: 'Fleet' }),
  FleetQuery: Type.Object({ firm: Type.Optional(firm('operators: the firm whose fleet to list (a firm’s key lists its own)')) }, { additionalProperties: false }),
  TruckParams: Type.Object({ plate: Type.String({ ...BookingPlate, description: 'the truck’s plate, with or without its separators (URL-encoded: 桂A12345 is %E6%A1%82A12345)' }) }),
  TransferBody: Type.Object({ toFirm: firm('the firm whose fleet takes the truck') }, { additionalProperties: false, title: 'TruckTransfer' }),
  TransferredTruck: Type.Object({ ...FleetTruckView.properties, firm: firm('the firm whose fleet has the truck now'), fromFirm: firm('the firm whose fleet had it') }, { additionalProperties: false, title: 'TransferredTruck' }),
};
