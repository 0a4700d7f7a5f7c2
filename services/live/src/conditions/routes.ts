import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { conditionsQuery, GateConditions, ProblemDocument, type AccessRegistry, type SiteCatalog } from '@tower/shared';
import { readerSecurity } from '../history/reader-access.ts';
import type { ConditionsBoard } from './board.ts';

export interface ConditionsRouteOptions {
  catalog: SiteCatalog;
  access: AccessRegistry;
  board: ConditionsBoard;
}

/**
 * `GET /v1/conditions`: the gate's conditions per lane group, public to every token the
 * live service knows. Unlike the rest of the history API, firms' keys read it too: it
 * holds no firm's data, only what the gate shows everyone.
 */
export function registerConditionsRoutes(root: FastifyInstance, { catalog, access, board }: ConditionsRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/conditions',
    {
      schema: {
        summary: 'The gate’s conditions per lane group: trucks queuing, expected wait, lanes open, the next windows’ free places',
        description:
          'As of the latest KPI round (the live `conditions` channel sends the same, then each lane group that changes). A firm’s API key, a display or an operator token. `expectedWaitMinutes` is null with `waitUnknownReason` when there is no rate to judge it by. Thresholds of `level` are in the answer.',
        tags: ['conditions'],
        security: readerSecurity,
        querystring: conditionsQuery(catalog.document.sites.map((s) => s.id)),
        response: { 200: GateConditions, 400: ProblemDocument, 401: ProblemDocument, 503: ProblemDocument },
      },
      onRequest: async (request) => void access.authenticate(request.headers.authorization, 'a firm’s API key, a display or an operator token'),
    },
    async (request) => board.current(request.query.site),
  );
}
