// The notifications service, all of it: partner webhooks and the event feed (api.md "Partner webhooks
// and the event feed"). Routes (routes/), the consumer of every service's partner events (messaging/),
// the dispatcher's worker and sweep and the retention purge (jobs/, workers/), its tables (db/schema) and
// the logic (domain/). Wired by @cruise/shared.
import {
  consumer,
  createWebhookRoute,
  defineService,
  deleteWebhookRoute,
  getWebhookRoute,
  idempotentRoute,
  job,
  listEventsRoute,
  listWebhookDeliveriesRoute,
  listWebhooksRoute,
  QUEUES,
  redeliverWebhookDeliveryRoute,
  rotateWebhookSecretRoute,
  route,
  testWebhookRoute,
  updateWebhookRoute,
  worker,
} from '@cruise/shared';
import { type NotificationsContext, notificationsContext, WEBHOOK_SECRETS_PURPOSE } from './context.ts';
import { migrationSet } from './db/migrations.ts';
import { notificationsSchema } from './db/schema/notifications-schema.ts';
import { purgeRetention } from './jobs/event-retention.ts';
import { storePartnerEvents } from './messaging/partner-events.consumer.ts';
import { listEvents } from './routes/events.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliverWebhookDelivery,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
} from './routes/webhooks.ts';

export default defineService<NotificationsContext>({
  name: 'notifications',
  schema: notificationsSchema.schemaName,
  port: (config) => config.NOTIFICATIONS_PORT,
  migrations: migrationSet,
  context: notificationsContext,
  routes: [
    // The stored answer (for Idempotency-Key replays) holds the secret sealed, never plain.
    idempotentRoute(createWebhookRoute, createWebhook, {
      sealed: { fields: ['secret'], purpose: WEBHOOK_SECRETS_PURPOSE },
    }),
    route(listWebhooksRoute, listWebhooks),
    route(getWebhookRoute, getWebhook),
    route(updateWebhookRoute, updateWebhook),
    route(deleteWebhookRoute, deleteWebhook),
    route(rotateWebhookSecretRoute, rotateWebhookSecret),
    route(testWebhookRoute, testWebhook),
    route(listWebhookDeliveriesRoute, listWebhookDeliveries),
    route(redeliverWebhookDeliveryRoute, redeliverWebhookDelivery),
    route(listEventsRoute, listEvents),
  ],
  consumers: [
    consumer({ durable: 'notifications', filter: 'events.*.partner-events', handle: storePartnerEvents }),
  ],
  jobs: [
    worker({
      queue: QUEUES.webhookDelivery,
      concurrency: (config) => config.WEBHOOK_WORKER_CONCURRENCY,
      run: (data, job, ctx) => ctx.dispatcher.run(data, job),
    }),
    // Deliveries whose job went missing (Redis lost it, the process died before the enqueue) or whose
    // claim lapsed: re-enqueued from the PENDING rows.
    job({ name: 'sweep-deliveries', every: '10s', run: (ctx) => ctx.dispatcher.sweep() }),
    job({ name: 'event-retention-purge', queue: QUEUES.eventRetention, every: '1h', run: purgeRetention }),
  ],
});
