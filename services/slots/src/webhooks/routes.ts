import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ForbiddenProblem, NotFoundProblem, ProblemDocument, ProblemError, ValidationProblem, vietnamIso, type AccessRecord, type AccessRegistry } from '@tower/shared';
import { spendOrRefuse, type KeyBudget } from '../budget.ts';
import { webhookSchemas } from './schemas.ts';
import { newWebhookSecret } from './signing.ts';
import type { DeliveryAttempt, QueuedDelivery, StoredEndpoint, WebhookEndpoint, WebhookStore } from './store.ts';
import { checkEndpointUrl } from './url.ts';

export interface WebhookRouteOptions {
  store: WebhookStore;
  access: AccessRegistry;
  /** The slots API's limiter: webhook requests count against the same budget per key. */
  budget: KeyBudget;
  maxPerFirm: number;
  allowLoopbackHttp: boolean;
  /** Counts a delivery refused at a full queue. */
  refused: (delivery: QueuedDelivery) => void;
  now: () => number;
}

/** The firm already has as many endpoints as it may: 409 naming the limit. */
class WebhookLimitProblem extends ProblemError {
  readonly status = 409;
  readonly code = 'webhook-limit-reached';
  readonly title = 'The firm has as many webhook endpoints as it may';
  constructor(limit: number) {
    super(`a firm may register ${limit} webhook endpoint(s); delete one first (DELETE /v1/webhooks/{id})`, { limit, errors: [{ field: '/body', reason: `the firm has ${limit} endpoint(s) already` }] });
  }
}

/** A replay refused: the endpoint has as many deliveries queued as it may. */
class QueueFullProblem extends ProblemError {
  readonly status = 409;
  readonly code = 'webhook-queue-full';
  readonly title = 'The endpoint has as many deliveries queued as it may';
  constructor(endpoint: StoredEndpoint) {
    super(`webhook endpoint ${endpoint.id} has ${endpoint.queuedDeliveries} deliveries queued; resume it (POST /v1/webhooks/${endpoint.id}:resume) or wait until they are sent`, { errors: [{ field: '/params/deliveryId', reason: 'the endpoint’s queue is full' }] });
  }
}

const problems = { 400: ProblemDocument, 401: ProblemDocument, 403: ProblemDocument, 404: ProblemDocument, 409: ProblemDocument, 429: ProblemDocument, 503: ProblemDocument };
/**
 * The `…:resume` and `…:replay` routes take any segment (the schema then checks the id:
 * 400), so a path with a colon reaches them; one that still falls to `/v1/webhooks/{id}`
 * (an empty id) is a 405 there.
 */
const colonProblems = { ...problems, 405: ProblemDocument };

const endpointView = (e: StoredEndpoint) => ({ ...e, pausedAtIso: e.pausedAt === null ? null : vietnamIso(e.pausedAt), createdAtIso: vietnamIso(e.createdAt) });
const attemptView = (a: DeliveryAttempt) => ({ ...a, atIso: vietnamIso(a.at) });

/**
 * The webhooks API of the slots service, for firms' keys only: register, list, delete and
 * resume endpoints, read an endpoint's delivery log and replay a delivery. A firm sees
 * only its own endpoints: another firm's is a 404, as if it did not exist.
 */
export function registerWebhookRoutes(root: FastifyInstance, options: WebhookRouteOptions): void {
  void root.register(async (scope) => webhookRoutes(scope, options));
}

function webhookRoutes(scope: FastifyInstance, options: WebhookRouteOptions): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { store, now } = options;
  const schemas = webhookSchemas({ maxUrlLength: 2048 });
  const security = [{ apiKey: [] }];
  const tags = ['webhooks'];
  app.decorateRequest('caller', undefined);
  const authenticate = async (request: { headers: { authorization?: string }; caller?: AccessRecord }) => {
    const caller = options.access.authenticate(request.headers.authorization, 'a firm’s API key');
    await spendOrRefuse(options.budget, caller.id, 1);
    if (!caller.firm) throw new ForbiddenProblem(`webhooks are a firm’s: ${caller.id} is a ${caller.role} token; use the firm’s API key`);
    request.caller = caller;
  };
  const firmOf = (request: { caller?: AccessRecord }) => (request.caller as AccessRecord).firm as string;
  /** The caller's endpoint, or 404 for one that does not exist or is another firm's. */
  const ownEndpoint = async (request: { caller?: AccessRecord }, id: string) => {
    const endpoint = await store.endpoint(id);
    if (!endpoint || endpoint.firm !== firmOf(request)) throw new NotFoundProblem(`no webhook endpoint ${id}`);
    return endpoint;
  };

  app.post(
    '/v1/webhooks',
    {
      schema: {
        summary: 'Register a webhook endpoint (firms)',
        description: 'Deliveries are POSTed to the URL, signed with the secret this answer carries once (docs/slots.md, Webhooks: verification code). https on a public address only.',
        tags,
        security,
        body: schemas.CreateWebhook,
        response: { 201: schemas.CreatedWebhook, ...problems },
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const verdict = checkEndpointUrl(request.body.url, options.allowLoopbackHttp);
      if (!verdict.ok) throw new ValidationProblem([{ field: '/body/url', reason: verdict.reason }]);
      const endpoint: WebhookEndpoint = {
        id: `wh_${randomBytes(10).toString('hex')}`,
        firm: firmOf(request),
        url: verdict.url.href,
        events: request.body.events,
        description: request.body.description ?? '',
        state: 'active',
        pausedReason: null,
        pausedAt: null,
        consecutiveFailures: 0,
        createdAt: now(),
      };
      const secret = newWebhookSecret();
      if (!(await store.create(endpoint, secret, options.maxPerFirm))) throw new WebhookLimitProblem(options.maxPerFirm);
      return reply.status(201).header('location', `/v1/webhooks/${endpoint.id}`).header('cache-control', 'no-store').send({ ...endpointView({ ...endpoint, queuedDeliveries: 0, refusedDeliveries: 0 }), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    { schema: { summary: 'The firm’s webhook endpoints', tags, security, response: { 200: schemas.WebhookList, ...problems } }, onRequest: authenticate },
    async (request) => ({ webhooks: (await store.endpointsOf(firmOf(request))).map(endpointView) }),
  );

  app.post(
    '/v1/webhooks/:webhookId(^[^/]+)::resume',
    {
      schema: { summary: 'Resume a paused endpoint: what queued meanwhile is sent, in order per booking', tags, security, params: schemas.WebhookParams, response: { 200: schemas.WebhookEndpoint, ...colonProblems } },
      onRequest: authenticate,
    },
    async (request) => {
      const endpoint = await ownEndpoint(request, request.params.webhookId);
      await store.resume(endpoint, now());
      return endpointView({ ...endpoint, state: 'active', pausedReason: null, pausedAt: null, consecutiveFailures: 0 });
    },
  );

  app.get(
    '/v1/webhooks/:webhookId/deliveries',
    {
      schema: { summary: 'The endpoint’s delivery log: its last attempts, newest first', tags, security, params: schemas.WebhookParams, response: { 200: schemas.DeliveryLog, ...problems } },
      onRequest: authenticate,
    },
    async (request) => {
      const endpoint = await ownEndpoint(request, request.params.webhookId);
      return { attempts: (await store.log(endpoint.id)).map(attemptView) };
    },
  );

  app.post(
    '/v1/webhooks/:webhookId(^[^/]+)/deliveries/:deliveryId(^[^/]+)::replay',
    {
      schema: {
        summary: 'Send a delivery again (the same event, a new delivery behind the booking’s queued ones)',
        tags,
        security,
        params: schemas.DeliveryParams,
        response: { 202: schemas.Replayed, ...colonProblems },
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const endpoint = await ownEndpoint(request, request.params.webhookId);
      const delivery = await store.delivery(request.params.deliveryId);
      if (!delivery || delivery.endpointId !== endpoint.id) throw new NotFoundProblem(`no delivery ${request.params.deliveryId} at webhook endpoint ${endpoint.id} (deliveries are kept for a while, then forgotten)`);
      const replay = { ...delivery, id: `dl_${randomBytes(12).toString('hex')}`, queuedAt: now() };
      const outcome = await store.enqueue(replay, now());
      if (outcome === 'gone') throw new NotFoundProblem(`no webhook endpoint ${endpoint.id}`);
      if (outcome === 'refused') {
        options.refused(replay);
        throw new QueueFullProblem(endpoint);
      }
      return reply.status(202).send({ deliveryId: replay.id, eventId: replay.eventId });
    },
  );

  // Last, so the OpenAPI document lists the endpoint's own path after the routes under it (a fuzzer's DELETE comes after them).
  app.get(
    '/v1/webhooks/:webhookId',
    { schema: { summary: 'One webhook endpoint (another firm’s is 404)', tags, security, params: schemas.WebhookParams, response: { 200: schemas.WebhookEndpoint, ...problems } }, onRequest: authenticate },
    async (request) => endpointView(await ownEndpoint(request, request.params.webhookId)),
  );

  app.delete(
    '/v1/webhooks/:webhookId',
    { schema: { summary: 'Delete a webhook endpoint and what is queued for it', tags, security, params: schemas.WebhookParams, response: { 204: Type.Null({ description: 'deleted' }), ...problems } }, onRequest: authenticate },
    async (request, reply) => {
      await store.delete(await ownEndpoint(request, request.params.webhookId));
      return reply.status(204).send(null);
    },
  );
}
