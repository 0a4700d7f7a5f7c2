import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DependencyUnavailableProblem, ForbiddenProblem, isRedisUnavailable, NotFoundProblem, ProblemDocument, displayNameOf, type AccessRegistry, type SiteCatalog } from '@tower/shared';
import { compareAlerts } from '../domain/alert-order.ts';
import { Alert } from '../domain/alerts.ts';
import type { AlertEngine } from '../gateway/alert-engine.ts';
import type { AlertLog } from '../gateway/alert-log.ts';
import type { AlertStore } from '../gateway/alert-store.ts';
import { readerProblems, readersOnly, readerSecurity } from '../history/reader-access.ts';

export interface AlertRouteOptions {
  catalog: SiteCatalog;
  access: AccessRegistry;
  store: AlertStore;
  log: AlertLog;
  engine: AlertEngine;
  /** How far back cleared alerts are listed. */
  recentMs: number;
  now: () => number;
}

/** The open alerts; Redis not answering (down, restarting, loading its data) is a 503 naming redis, not a 500. */
async function openAlerts(store: AlertStore): Promise<Alert[]> {
  try {
    return await store.open();
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    throw new DependencyUnavailableProblem('redis', `the open alerts (Redis) could not be read (${(error as Error).message}); try again`, 2);
  }
}

/**
 * Open alerts (Redis) and the newest revision of those of the last `recentMs`
 * (ClickHouse), merged by id, in `compareAlerts` order. The `alerts` channel's snapshot
 * and GET /v1/alerts.
 */
export async function openAndRecentAlerts(options: Pick<AlertRouteOptions, 'store' | 'log' | 'recentMs' | 'now'>, site: string | undefined): Promise<Alert[]> {
  const [open, recent] = await Promise.all([openAlerts(options.store), options.log.recent(options.now() - options.recentMs, site, 200)]);
  const newest = new Map<string, Alert>();
  for (const alert of [...recent, ...open]) {
    if (site !== undefined && alert.site !== site) continue;
    const known = newest.get(alert.id);
    if (!known || known.revision < alert.revision) newest.set(alert.id, alert);
  }
  return [...newest.values()].sort(compareAlerts);
}

const AlertList = Type.Object({ alerts: Type.Array(Alert) });
const problems = { 400: ProblemDocument, 401: ProblemDocument, 403: ProblemDocument, 404: ProblemDocument, 503: ProblemDocument };

export function registerAlertRoutes(root: FastifyInstance, options: AlertRouteOptions): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const siteIds = options.catalog.document.sites.map((s) => s.id);

  app.get(
    '/v1/alerts',
    {
      schema: {
        summary: 'Open alerts and those of the last hours, newest revision of each',
        tags: ['alerts'],
        security: readerSecurity,
        querystring: Type.Object({ site: Type.Optional(Type.Union(siteIds.map((id) => Type.Literal(id)))) }, { additionalProperties: false }),
        response: { 200: AlertList, 400: ProblemDocument, ...readerProblems, 503: ProblemDocument },
      },
      onRequest: readersOnly(options.access),
    },
    async (request) => ({ alerts: await openAndRecentAlerts(options, request.query.site) }),
  );

  app.post(
    '/v1/alerts/:id/acknowledge',
    {
      schema: {
        summary: 'An operator acknowledges an open alert (Authorization: Bearer <operator token>)',
        description: 'Answers once the change is in Kafka (then every wall sees it). Acknowledging twice is harmless and answers the alert as it is.',
        tags: ['alerts'],
        security: readerSecurity,
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Alert, ...problems },
      },
    },
    async (request) => {
      const who = options.access.authenticate(request.headers.authorization, 'the operator token');
      if (who.role !== 'operator') throw new ForbiddenProblem(`${who.id} is a ${who.role} token; acknowledging needs an operator token`);
      let alert;
      try {
        alert = await options.engine.acknowledge(request.params.id, { id: who.id, name: displayNameOf(who) });
      } catch (error) {
        throw new DependencyUnavailableProblem('alerts', `the acknowledgement could not be recorded in Redis and Kafka (${(error as Error).message}); try again`);
      }
      if (!alert) throw new NotFoundProblem(`no open alert ${request.params.id}: it may have cleared`);
      return alert;
    },
  );

  app.get(
    '/v1/access/me',
    {
      schema: {
        summary: 'Who a token is (Authorization: Bearer <token>): the wall shows the acknowledge buttons to operators only',
        tags: ['alerts'],
        security: readerSecurity,
        response: { 200: Type.Object({ id: Type.String(), role: Type.String(), name: Type.String() }), 401: ProblemDocument },
      },
    },
    async (request) => {
      const { id, role, name } = options.access.authenticate(request.headers.authorization, 'the operator token');
      return { id, role, name };
    },
  );
}
