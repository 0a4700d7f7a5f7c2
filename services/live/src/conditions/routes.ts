import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { conditionsRouteSchema, ProblemDocument, RateLimitedProblem, RateLimiter, type AccessRegistry, type SiteCatalog } from '@tower/shared';
import { readerSecurity } from '../history/reader-access.ts';
import type { ConditionsBoard } from './board.ts';

export interface ConditionsRouteOptions {
  catalog: SiteCatalog;
  access: AccessRegistry;
  board: ConditionsBoard;
  /** Requests per second and burst per token (the gateway's bucket per socket for its messages). */
  rate: { perSecond: number; burst: number };
  now: () => number;
}

/**
 * `GET /v1/conditions`: the gate's conditions per lane group, public to every token the
 * live service knows. Unlike the rest of the history API, firms' keys read it too: it
 * holds no firm's data, only what the gate shows everyone. Firms are many and each is a
 * stranger to the others: every token has a budget of requests (a token bucket of
 * `rate`), over it a 429 with Retry-After, so no key asking in a loop slows the rest.
 */
export function registerConditionsRoutes(root: FastifyInstance, { catalog, access, board, rate, now }: ConditionsRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const schema = conditionsRouteSchema(
    catalog.document.sites.map((s) => s.id),
    {
      description: 'As of the latest KPI round (the live `conditions` channel sends the same, then each lane group that changes). A firm’s API key, a display or an operator token.',
      security: readerSecurity,
      problems: { 400: ProblemDocument, 401: ProblemDocument, 429: ProblemDocument, 503: ProblemDocument },
    },
  );
  const limiter = new RateLimiter(rate.perSecond, rate.burst, now);
  const onRequest = async (request: { headers: { authorization?: string } }) => {
    const caller = access.authenticate(request.headers.authorization, 'a firm’s API key, a display or an operator token');
    const allowance = limiter.take(caller.id, 1);
    if (!allowance.allowed) throw new RateLimitedProblem(`${caller.id} is over its rate of requests; retry in ${allowance.retryAfterSeconds} s`, allowance.retryAfterSeconds);
  };
  app.get('/v1/conditions', { schema, onRequest }, async (request) => board.current(request.query.site));
}
