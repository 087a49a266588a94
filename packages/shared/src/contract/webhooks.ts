// Public routes owned by the notifications service (../shared/api.md, "Partner webhooks and the event
// feed"): webhook subscriptions, their deliveries, and the pull feed of the same events.
import { z } from 'zod';
import { defineRoute, idempotencyHeaders, pageOf, paginationQuery, type RouteDef, uuid } from './common.ts';
import { allocationPoolResponse, reservationResponse } from './inventory.ts';
import { batch, ticket } from './issuance/index.ts';

export const MAX_WEBHOOKS_PER_PARTNER = 20;

/** Every event type a partner can subscribe to (`ping` is sent by the test route only). */
export const WEBHOOK_EVENT_TYPES = [
  'reservation.confirmed',
  'reservation.expired',
  'reservation.cancelled',
  'batch.completed',
  'batch.failed',
  'ticket.activated',
  'ticket.redeemed',
  'ticket.used',
  'ticket.cancelled',
  'ticket.expired',
  'allocation.updated',
] as const;
export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof webhookEventType>;

/** How a partner checks a delivery; shown in the README and on every webhook route of the document. */
export const WEBHOOK_VERIFICATION = `Deliveries follow Standard Webhooks (standardwebhooks.com). Each POST carries
\`webhook-id\` (the event id; dedupe on it), \`webhook-timestamp\` (unix seconds) and
\`webhook-signature: v1,<base64 HMAC-SHA256>\` (space-separated when a rotated secret is still valid).
Verify with any Standard Webhooks library, e.g. in Node \`new Webhook(secret).verify(rawBody, headers)\`
from the \`standardwebhooks\` package, or by hand: key = base64-decode(secret without \`whsec_\`);
expected = base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")); accept when any
\`v1,\` entry equals it (constant-time compare) and the timestamp is within 5 minutes of now.
Answer 2xx within 10 s; anything else is retried (about 5 s, 30 s, 2 min, 10 min, then exponential
with jitter for at least 24 h); 410 disables the webhook.`;

const webhookUrl = z
  .string()
  .min(1)
  .max(2048)
  .url()
  .describe(
    'https and a public address (checked on save and at every delivery); http and private addresses only where the deployment allows them',
  );
const subscribedEvents = z
  .array(z.union([webhookEventType, z.literal('*')]))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .describe('Event types to receive; ["*"] for all');

export const createWebhookBody = z
  .object({
    url: webhookUrl,
    events: subscribedEvents,
    description: z.string().max(500).nullish(),
  })
  .meta({
    examples: [
      {
        url: 'https://ota.example/hooks/cruise',
        events: ['ticket.used', 'batch.completed'],
        description: 'Production receiver',
      },
    ],
  });
export type CreateWebhookBody = z.infer<typeof createWebhookBody>;

export const updateWebhookBody = z
  .object({
    url: webhookUrl.optional(),
    events: subscribedEvents.optional(),
    description: z.string().max(500).nullable().optional(),
    status: z.enum(['ENABLED', 'DISABLED']).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field' });
export type UpdateWebhookBody = z.infer<typeof updateWebhookBody>;

export const webhook = z
  .object({
    webhook_id: uuid,
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: z.enum(['ENABLED', 'DISABLED']),
    created_at: z.string(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof webhook>;

export const createdWebhook = webhook
  .extend({
    secret: z.string().describe('`whsec_` + base64 of 32 random bytes; shown once'),
  })
  .meta({ id: 'CreatedWebhook' });

export const webhookSecret = z.object({ secret: z.string() }).meta({ id: 'WebhookSecret' });

export const webhookParams = z.object({ webhook_id: uuid });
export const deliveryParams = z.object({ webhook_id: uuid, delivery_id: uuid });

export const deliveryStatus = z.enum(['PENDING', 'SUCCEEDED', 'FAILED']);
export const deliveryListQuery = paginationQuery.extend({ status: deliveryStatus.optional() });

export const delivery = z
  .object({
    delivery_id: uuid,
    event_id: uuid,
    event_type: z.string(),
    status: deliveryStatus,
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export type Delivery = z.infer<typeof delivery>;

export const deliveryQueued = z
  .object({ delivery_id: uuid, event_id: uuid })
  .meta({ id: 'WebhookDeliveryQueued' });

/** What each event type carries in `data`: the object in the same shape as its GET. */
export const eventData = {
  'reservation.confirmed': z.object({ reservation: reservationResponse }),
  'reservation.expired': z.object({ reservation: reservationResponse }),
  'reservation.cancelled': z.object({ reservation: reservationResponse }),
  'batch.completed': z.object({ batch }),
  'batch.failed': z.object({ batch }),
  'ticket.activated': z.object({ ticket }),
  'ticket.redeemed': z.object({ ticket, function_code: z.string() }),
  'ticket.used': z.object({ ticket }),
  'ticket.cancelled': z.object({ ticket }),
  'ticket.expired': z.object({ ticket }),
  'allocation.updated': z.object({ pool: allocationPoolResponse }),
} as const satisfies Record<WebhookEventType, z.ZodType>;

export const partnerEvent = z
  .object({
    event_id: uuid.describe('Stable: a redelivery carries the same id (also sent as `webhook-id`)'),
    type: z.union([webhookEventType, z.literal('ping')]),
    created_at: z.string().describe('When the change was committed'),
    partner_id: uuid,
    revision: z
      .number()
      .int()
      .describe("Grows with every change of the event's object: sort by it to restore order"),
    data: z
      .record(z.string(), z.unknown())
      .describe(
        '`{ reservation }`, `{ batch }`, `{ ticket }` (and `function_code` for ticket.redeemed), `{ pool }`',
      ),
  })
  .meta({ id: 'PartnerEvent' });
export type PartnerEvent = z.infer<typeof partnerEvent>;

export const eventFeedQuery = z.object({
  after: z.string().min(1).max(200).optional().describe('next_cursor of the previous page'),
  types: z
    .string()
    .max(1000)
    .optional()
    .describe('Comma-separated event types, e.g. ticket.used,batch.completed'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const eventFeedPage = z
  .object({
    data: z.array(partnerEvent),
    next_cursor: z.string().describe('Never null: poll on with it; no event is skipped or repeated'),
  })
  .meta({ id: 'EventFeedPage' });

const webhookTags = ['Webhooks'];
const notFound = ['VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND'] as const;

export const createWebhookRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/webhooks',
  operationId: 'createWebhook',
  summary: 'Subscribe a URL to event types (the signing secret is shown once)',
  description: WEBHOOK_VERIFICATION,
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  headers: idempotencyHeaders,
  body: createWebhookBody,
  response: { 201: createdWebhook },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED', 'IDEMPOTENCY_KEY_REUSED'],
});

export const listWebhooksRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/webhooks',
  operationId: 'listWebhooks',
  summary: "The caller's webhooks (never their secrets)",
  description: WEBHOOK_VERIFICATION,
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  querystring: paginationQuery,
  response: { 200: pageOf(webhook) },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const getWebhookRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/webhooks/:webhook_id',
  operationId: 'getWebhook',
  summary: 'One of the caller’s webhooks',
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  response: { 200: webhook },
  errors: [...notFound],
});

export const updateWebhookRoute = defineRoute({
  method: 'PATCH',
  path: '/api/ota/webhooks/:webhook_id',
  operationId: 'updateWebhook',
  summary: 'Change the URL, events, description or status (ENABLED/DISABLED)',
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  body: updateWebhookBody,
  response: { 200: webhook },
  errors: [...notFound],
});

export const deleteWebhookRoute = defineRoute({
  method: 'DELETE',
  path: '/api/ota/webhooks/:webhook_id',
  operationId: 'deleteWebhook',
  summary: 'Delete a webhook; its pending deliveries are dropped',
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  response: { 204: z.null() },
  errors: [...notFound],
});

export const rotateWebhookSecretRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/webhooks/:webhook_id/rotate-secret',
  operationId: 'rotateWebhookSecret',
  summary: 'A new signing secret; for 24 h deliveries carry signatures with the new and the old one',
  description: WEBHOOK_VERIFICATION,
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  response: { 200: webhookSecret },
  errors: [...notFound],
});

export const testWebhookRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/webhooks/:webhook_id/test',
  operationId: 'testWebhook',
  summary: 'Deliver a `ping` event to this webhook, whatever its events',
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  response: { 202: deliveryQueued },
  errors: [...notFound],
});

export const listWebhookDeliveriesRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/webhooks/:webhook_id/deliveries',
  operationId: 'listWebhookDeliveries',
  summary: "A webhook's deliveries, newest first",
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: webhookParams,
  querystring: deliveryListQuery,
  response: { 200: pageOf(delivery) },
  errors: [...notFound],
});

export const redeliverWebhookDeliveryRoute = defineRoute({
  method: 'POST',
  path: '/api/ota/webhooks/:webhook_id/deliveries/:delivery_id/redeliver',
  operationId: 'redeliverWebhookDelivery',
  summary: 'Deliver the same event (same webhook-id) again, whatever the delivery’s status',
  tags: webhookTags,
  auth: 'partner',
  service: 'notifications',
  params: deliveryParams,
  response: { 202: deliveryQueued },
  errors: [...notFound],
});

export const listEventsRoute = defineRoute({
  method: 'GET',
  path: '/api/ota/events',
  operationId: 'listEvents',
  summary: 'The same events as the webhooks, in commit order, for partners who pull (kept ≥ 30 days)',
  tags: ['Events'],
  auth: 'partner',
  service: 'notifications',
  querystring: eventFeedQuery,
  response: { 200: eventFeedPage },
  errors: ['VALIDATION_FAILED', 'UNAUTHORIZED'],
});

export const webhookRoutes: RouteDef[] = [
  createWebhookRoute,
  listWebhooksRoute,
  getWebhookRoute,
  updateWebhookRoute,
  deleteWebhookRoute,
  rotateWebhookSecretRoute,
  testWebhookRoute,
  listWebhookDeliveriesRoute,
  redeliverWebhookDeliveryRoute,
  listEventsRoute,
];
