import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  conditionsOfSite,
  conditionsRouteSchema,
  decodeGateConditions,
  DependencyUnavailableProblem,
  ForbiddenProblem,
  gateConditionsKey,
  ProblemDocument,
  type AccessRegistry,
  type GateConditions,
  type Logger,
  type Redis,
  type SiteCatalog,
} from '@tower/shared';
import { spendOrRefuse, type KeyBudget } from '../budget.ts';

/**
 * The gate conditions as the live service last wrote them to Redis (`conditions:current`,
 * written by its instance leading alert evaluation every few seconds, expiring when not
 * renewed), or undefined when none is there: the live service is down, lost its lead
 * without a successor yet, or cannot read ClickHouse. A view that does not decode is
 * logged and treated as absent. For the route below and the webhooks (threshold events).
 */
export async function readGateConditions(redis: Redis, logger: Logger): Promise<GateConditions | undefined> {
  const stored = await redis.get(gateConditionsKey);
  if (stored === null) return undefined;
  try {
    return decodeGateConditions(stored);
  } catch (error) {
    logger.warn({ err: error }, 'the gate conditions in Redis do not decode; answered as unavailable');
    return undefined;
  }
}

export interface ConditionsRouteOptions {
  redis: Redis;
  access: AccessRegistry;
  /** The slots API's limiter: these requests count against the same budget per key. */
  budget: KeyBudget;
  catalog: SiteCatalog;
  logger: Logger;
}

/**
 * `GET /v1/conditions` on the slots service (the booking page's origin): the live
 * service's view, for a firm's API key or an operator token. Nothing fresh in Redis:
 * 503 naming the dependency `conditions`, never an old view.
 */
export function registerConditionsRoute(root: FastifyInstance, options: ConditionsRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const schema = conditionsRouteSchema(
    options.catalog.document.sites.map((s) => s.id),
    {
      description: 'As the Operations Center computed them last, a few seconds ago (the same as its GET /v1/conditions and live `conditions` channel). A firm’s API key or an operator token. None fresh: 503 with Retry-After.',
      security: [{ apiKey: [] }],
      problems: { 400: ProblemDocument, 401: ProblemDocument, 403: ProblemDocument, 429: ProblemDocument, 503: ProblemDocument },
    },
  );
  const onRequest = async (request: { headers: { authorization?: string } }) => {
    const caller = options.access.authenticate(request.headers.authorization, 'a firm’s API key or an operator token');
    await spendOrRefuse(options.budget, caller.id, 1);
    if (caller.role === 'display') throw new ForbiddenProblem(`${caller.id} is a display token; the slots API is for firms’ keys and operators (displays read GET /v1/conditions of the Operations Center)`);
  };
  app.get('/v1/conditions', { schema, onRequest }, async (request) => {
    const view = await readGateConditions(options.redis, options.logger);
    if (!view) throw new DependencyUnavailableProblem('conditions', 'no current gate conditions: the Operations Center writes them every few seconds and none is fresh; retry shortly');
    return conditionsOfSite(view, request.query.site);
  });
}
