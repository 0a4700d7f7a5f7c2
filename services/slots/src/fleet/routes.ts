import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { vietnamIso, type AccessRegistry } from '@tower/shared';
import type { KeyBudget } from '../budget.ts';
import type { SlotDesk } from '../desk.ts';
import type { FleetTruck } from '../domain/fleet.ts';
import { deskCallers, problems, registerDeskRoutes } from '../http/routes.ts';
import { fleetSchemas, type FleetTruckView } from './schemas.ts';

export interface FleetRouteOptions {
  desk: SlotDesk;
  access: AccessRegistry;
  budget: KeyBudget;
  now: () => number;
}

const truckView = (truck: FleetTruck): FleetTruckView => ({ ...truck, registeredAtIso: vietnamIso(truck.registeredAt) });

/**
 * A truck route's path with a colon verb (`…/{plate}:transfer`): the plate segment takes
 * anything but a slash (the schema then checks it: 400), as the webhooks' `:resume` does.
 */
const colonProblems = { ...problems, 405: problems[404] };

/**
 * The fleet API: a firm registers, lists and removes its trucks; operators list a firm's
 * fleet and move a truck to another firm's. A firm sees only its own fleet: another
 * firm's truck is a 404, as if there were none (never a 403, which would say it exists).
 */
export function registerFleetRoutes(root: FastifyInstance, options: FleetRouteOptions): void {
  registerDeskRoutes(root, (scope) => fleetRoutes(scope, options));
}

function fleetRoutes(scope: FastifyInstance, options: FleetRouteOptions): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { desk, now } = options;
  const { authenticate, caller } = deskCallers(options);
  const security = [{ apiKey: [] }];
  const tags = ['fleet'];

  app.post(
    '/v1/fleet/trucks',
    {
      schema: {
        summary: 'Register a truck in the firm’s fleet (firms)',
        description: [
          'A firm books only trucks of its fleet. 201 with the truck; the same truck again (its plate with or without separators) 200, its details replaced by these and registeredAt kept.',
          'A truck in another firm’s fleet is 409 plate-in-another-fleet (which names no firm and no booking): trucks move between fleets by an operator’s transfer. A full fleet is 409 fleet-full.',
        ].join(' '),
        tags,
        security,
        body: fleetSchemas.TruckRegistration,
        response: { 200: fleetSchemas.FleetTruckView, 201: fleetSchemas.FleetTruckView, ...problems },
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const { truck, created } = await desk.registerTruck(caller(request), request.body, now());
      return reply.status(created ? 201 : 200).header('location', `/v1/fleet/trucks/${encodeURIComponent(truck.plateKey)}`).send(truckView(truck));
    },
  );

  app.get(
    '/v1/fleet/trucks',
    {
      schema: { summary: 'A fleet: a firm’s key its own; operators name the firm (firm=)', tags, security, querystring: fleetSchemas.FleetQuery, response: { 200: fleetSchemas.FleetList, ...problems } },
      onRequest: authenticate,
    },
    async (request) => ({ trucks: (await desk.fleet(caller(request), request.query.firm)).map(truckView) }),
  );

  app.post(
    '/v1/fleet/trucks/:plate(^[^/]+)::transfer',
    {
      schema: {
        summary: 'Move a truck to another firm’s fleet (operators)',
        description: 'The truck leaves the fleet that has it for toFirm’s. While that firm has held or confirmed bookings of the truck still ahead: 409 truck-has-bookings with their count (cancel them first with DELETE /v1/bookings/{id}). A toFirm no key in the access registry acts for: 422 unknown-firm naming /body/toFirm. 404 when no fleet has the truck; 409 fleet-full.',
        tags,
        security,
        params: fleetSchemas.TruckParams,
        body: fleetSchemas.TransferBody,
        response: { 200: fleetSchemas.TransferredTruck, ...colonProblems },
      },
      onRequest: authenticate,
    },
    async (request) => {
      const { truck, fromFirm } = await desk.transferTruck(caller(request), request.params.plate, request.body.toFirm, now());
      return { ...truckView(truck), firm: request.body.toFirm, fromFirm };
    },
  );

  app.delete(
    '/v1/fleet/trucks/:plate',
    {
      schema: {
        summary: 'Remove a truck from the firm’s fleet (firms)',
        description: '204. A truck with a held or confirmed booking of the firm still ahead is 409 truck-has-bookings; a truck not in the firm’s fleet (another firm’s too) is 404.',
        tags,
        security,
        params: fleetSchemas.TruckParams,
        response: { 204: { type: 'null', description: 'removed' }, ...problems },
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      await desk.removeTruck(caller(request), request.params.plate, now());
      return reply.status(204).send();
    },
  );
}
