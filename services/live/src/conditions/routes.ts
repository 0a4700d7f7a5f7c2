import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { conditionsRouteSchema, ProblemDocument, type AccessRegistry, type SiteCatalog } from '@tower/shared';
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
  const schema = conditionsRouteSchema(
    catalog.document.sites.map((s) => s.id),
    {
      description: 'As of the latest KPI round (the live `conditions` channel sends the same, then each lane group that changes). A firm’s API key, a display or an operator token.',
      security: readerSecurity,
      problems: { 400: ProblemDocument, 401: ProblemDocument, 503: ProblemDocument },
    },
  );
  const onRequest = async (request: { headers: { authorization?: string } }) => void access.authenticate(request.headers.authorization, 'a firm’s API key, a display or an operator token');
  app.get('/v1/conditions', { schema, onRequest }, async (request) => board.current(request.query.site));
}
