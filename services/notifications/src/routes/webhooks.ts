// Webhook subscription routes: thin handlers over domain/webhooks.ts and domain/deliveries.ts (the
// manifest declares the created webhook's secret sealed in the stored Idempotency-Key answer).
import {
  AppError,
  type createWebhookRoute,
  type deleteWebhookRoute,
  type getWebhookRoute,
  type Handler,
  type IdempotentHandler,
  type listWebhookDeliveriesRoute,
  type listWebhooksRoute,
  type Outcome,
  type redeliverWebhookDeliveryRoute,
  refusalError,
  type rotateWebhookSecretRoute,
  type testWebhookRoute,
  type updateWebhookRoute,
} from '@cruise/shared';
import type { NotificationsContext } from '../context.ts';
import { listDeliveries, queuePing, redeliver } from '../domain/deliveries.ts';
import {
  updateWebhook as changeWebhook,
  createWebhook as insertWebhook,
  readWebhook,
  listWebhooks as readWebhooks,
  deleteWebhook as removeWebhook,
  rotateSecret,
  toWebhook,
} from '../domain/webhooks.ts';

type Ctx = NotificationsContext;

/** A domain refusal becomes the contract's problem response. */
function orRefuse<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw refusalError(outcome);
  return outcome;
}

/** A delivery just stored: its first attempt goes out with its webhook's next drain. */
async function enqueueFirstAttempt(ctx: Ctx, webhookId: string, deliveryId: string): Promise<void> {
  // A lost enqueue only delays: the sweeper re-creates jobs of overdue PENDING deliveries.
  await ctx.queue
    .enqueue([{ delivery_id: deliveryId, webhook_id: webhookId, attempts: 0 }])
    .catch((err) => ctx.log.warn({ err }, 'delivery not enqueued; the sweeper will'));
}

export const createWebhook: IdempotentHandler<typeof createWebhookRoute, Ctx> = async ({
  body,
  caller,
  ctx,
  tx,
  respond,
}) => {
  const created = orRefuse(
    await insertWebhook(tx, ctx.sealer, caller.partnerId, body, ctx.config.WEBHOOK_ALLOW_PRIVATE_URLS),
  );
  return respond(201, { ...created.webhook, secret: created.secret });
};

export const listWebhooks: Handler<typeof listWebhooksRoute, Ctx> = async ({ query, caller, ctx }) =>
  orRefuse(await readWebhooks(ctx.pool, caller.partnerId, query)).page;

export const getWebhook: Handler<typeof getWebhookRoute, Ctx> = async ({ params, caller, ctx }) => {
  const row = await readWebhook(ctx.pool, caller.partnerId, params.webhook_id);
  if (!row) throw new AppError('NOT_FOUND', 'No such webhook');
  return toWebhook(row);
};

export const updateWebhook: Handler<typeof updateWebhookRoute, Ctx> = async ({ params, body, caller, ctx }) =>
  orRefuse(
    await changeWebhook(
      ctx.pool,
      caller.partnerId,
      params.webhook_id,
      body,
      ctx.config.WEBHOOK_ALLOW_PRIVATE_URLS,
    ),
  ).webhook;

export const deleteWebhook: Handler<typeof deleteWebhookRoute, Ctx> = async ({ params, caller, ctx }) => {
  if (!(await removeWebhook(ctx.pool, caller.partnerId, params.webhook_id))) {
    throw new AppError('NOT_FOUND', 'No such webhook');
  }
  return undefined;
};

export const rotateWebhookSecret: Handler<typeof rotateWebhookSecretRoute, Ctx> = async ({
  params,
  caller,
  ctx,
}) => ({
  secret: orRefuse(await rotateSecret(ctx.pool, ctx.sealer, caller.partnerId, params.webhook_id)).secret,
});

export const testWebhook: Handler<typeof testWebhookRoute, Ctx> = async ({ params, caller, ctx }) => {
  const ping = orRefuse(await queuePing(ctx.pool, caller.partnerId, params.webhook_id));
  await enqueueFirstAttempt(ctx, params.webhook_id, ping.delivery_id);
  return { delivery_id: ping.delivery_id, event_id: ping.event_id };
};

export const listWebhookDeliveries: Handler<typeof listWebhookDeliveriesRoute, Ctx> = async ({
  params,
  query,
  caller,
  ctx,
}) =>
  orRefuse(
    await listDeliveries(ctx.pool, {
      ...query,
      partnerId: caller.partnerId,
      webhookId: params.webhook_id,
    }),
  ).page;

export const redeliverWebhookDelivery: Handler<typeof redeliverWebhookDeliveryRoute, Ctx> = async ({
  params,
  caller,
  ctx,
}) => {
  const again = orRefuse(
    await redeliver(ctx.pool, {
      partnerId: caller.partnerId,
      webhookId: params.webhook_id,
      deliveryId: params.delivery_id,
    }),
  );
  await enqueueFirstAttempt(ctx, params.webhook_id, again.delivery_id);
  return { delivery_id: again.delivery_id, event_id: again.event_id };
};
