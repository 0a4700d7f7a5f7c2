import { Type, type Static } from '@sinclair/typebox';
import { webhookEventTypes } from './store.ts';

/**
 * The webhooks API's schemas, declared once: fastify validates requests and serialises
 * answers with them, and /docs is built from them. Times are ms since the epoch, each with
 * its twin `…Iso` in ISO 8601 in Vietnam time, as in the rest of the slots API.
 */
const epochMs = (description: string) => Type.Integer({ minimum: 0, description: `${description}, ms since the epoch` });
const isoTime = (description: string) => Type.String({ format: 'date-time', description: `${description}, ISO 8601 in Vietnam time (+07:00)` });
const nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);

export const webhookIdPattern = '^wh_[0-9a-f]{20}$';
export const deliveryIdPattern = '^dl_[0-9a-f]{24}$';
/** The ids the OpenAPI document shows as examples (the fuzz test seeds an endpoint and a delivery with them). */
export const exampleWebhookId = 'wh_8a1f0c2d3e4b5a6978c1';
export const exampleDeliveryId = 'dl_5b2e9d1c0a3f4e6d7c8b9a01';

export const WebhookEventType = Type.Unsafe<(typeof webhookEventTypes)[number]>({
  type: 'string',
  enum: [...webhookEventTypes],
  description: [
    'booking.state-changed: any change of a booking of the firm (held, confirmed, checked-in, late, completed, cancelled, expired, no-show);',
    'window.closed / window.capacity-cut: an operator closed a window or cut its places while the firm holds or has confirmed bookings there (the event names them);',
    'conditions.threshold-crossed: a lane group’s conditions level changed (normal, busy, congested, closed), with the group’s conditions;',
    'endpoint.paused: another endpoint of the firm was paused after failing deliveries in a row',
  ].join(' '),
});

export function webhookSchemas(limits: { maxUrlLength: number }) {
  const WebhookEndpoint = Type.Object(
    {
      id: Type.String({ pattern: webhookIdPattern }),
      url: Type.String({ description: 'where deliveries are POSTed' }),
      events: Type.Array(WebhookEventType),
      description: Type.String(),
      state: Type.Unsafe<'active' | 'paused'>({ type: 'string', enum: ['active', 'paused'], description: 'paused after failing deliveries in a row: nothing is sent until POST /v1/webhooks/{id}:resume (deliveries keep queuing)' }),
      pausedReason: nullable(Type.String({ description: 'why it was paused' })),
      pausedAt: nullable(epochMs('when it was paused')),
      pausedAtIso: nullable(isoTime('when it was paused')),
      consecutiveFailures: Type.Integer({ minimum: 0, description: 'failed attempts since the last delivered one' }),
      queuedDeliveries: Type.Integer({ minimum: 0, description: 'deliveries queued for it, not yet delivered or given up' }),
      refusedDeliveries: Type.Integer({ minimum: 0, description: 'deliveries refused because it had the most it may have queued (WEBHOOKS_MAX_QUEUED_PER_ENDPOINT): resume it, then read GET /v1/bookings for the current state' }),
      createdAt: epochMs('when it was registered'),
      createdAtIso: isoTime('when it was registered'),
    },
    { title: 'WebhookEndpoint', additionalProperties: false },
  );
  return {
    WebhookParams: Type.Object({ webhookId: Type.String({ pattern: webhookIdPattern, description: 'endpoint id (wh_…)', examples: [exampleWebhookId] }) }),
    DeliveryParams: Type.Object({
      webhookId: Type.String({ pattern: webhookIdPattern, examples: [exampleWebhookId] }),
      deliveryId: Type.String({ pattern: deliveryIdPattern, description: 'delivery id (dl_…), from the delivery log', examples: [exampleDeliveryId] }),
    }),
    CreateWebhook: Type.Object(
      {
        url: Type.String({ minLength: 1, maxLength: limits.maxUrlLength, description: 'https URL on a public address (no user name or password in it)' }),
        events: Type.Array(WebhookEventType, { minItems: 1, maxItems: webhookEventTypes.length, uniqueItems: true }),
        description: Type.Optional(Type.String({ maxLength: 200, description: 'the firm’s own note (which system, who to call)' })),
      },
      { title: 'WebhookRequest', additionalProperties: false },
    ),
    WebhookEndpoint,
    CreatedWebhook: Type.Composite([WebhookEndpoint, Type.Object({ secret: Type.String({ description: 'the signing secret (whsec_…): shown this once, store it now' }) })], { title: 'CreatedWebhook' }),
    WebhookList: Type.Object({ webhooks: Type.Array(WebhookEndpoint) }, { title: 'WebhookList' }),
    DeliveryLog: Type.Object(
      {
        attempts: Type.Array(
          Type.Object(
            {
              deliveryId: Type.String({ pattern: deliveryIdPattern }),
              eventId: Type.String({ description: 'the event sent (Tower-Webhook-Id)' }),
              attempt: Type.Integer({ minimum: 1, description: '1 for the first try of this delivery' }),
              at: epochMs('when the attempt ended'),
              atIso: isoTime('when the attempt ended'),
              statusCode: nullable(Type.Integer({ description: 'the receiver’s HTTP status; null when there was none (timeout, refused connection)' })),
              durationMs: Type.Integer({ minimum: 0 }),
              error: nullable(Type.String({ description: 'what went wrong when there was no status' })),
              outcome: Type.Unsafe<'delivered' | 'retrying' | 'failed'>({ type: 'string', enum: ['delivered', 'retrying', 'failed'], description: 'delivered (2xx), retrying (tried again later), failed (given up after the retry time)' }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { title: 'DeliveryLog' },
    ),
    Replayed: Type.Object({ deliveryId: Type.String({ pattern: deliveryIdPattern, description: 'the new delivery' }), eventId: Type.String({ description: 'the same event as before' }) }, { title: 'Replayed' }),
  };
}
export type WebhookSchemas = ReturnType<typeof webhookSchemas>;
export type CreateWebhook = Static<WebhookSchemas['CreateWebhook']>;
