// Webhook subscription routes: thin adapters over domain/webhooks.ts and domain/deliveries.ts.
import {
  type App,
  AppError,
  type CreateWebhookBody,
  type Delivery,
  idempotent,
  routeSchema,
  type UpdateWebhookBody,
} from '@cruise/shared';
import { listDeliveries, queuePing, redeliver } from '../domain/deliveries.ts';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  readWebhook,
  rotateSecret,
  toWebhook,
  updateWebhook,
} from '../domain/webhooks.ts';
import { contractRoute, orRefuse, partnerOf, type RouteContext } from './context.ts';

type WebhookParams = { webhook_id: string };

function register(app: App, operationId: string, handler: Parameters<App['route']>[0]['handler']) {
  const route = contractRoute(operationId);
  app.route({ method: route.method, url: route.path, schema: routeSchema(route), handler });
}

export function registerWebhookRoutes(app: App, ctx: RouteContext): void {
  const allowPrivate = ctx.config.WEBHOOK_ALLOW_PRIVATE_URLS;

  register(app, 'createWebhook', async (request, reply) => {
    const partnerId = partnerOf(request);
    const body = request.body as CreateWebhookBody;
    const key = (request.headers as { 'idempotency-key'?: string })['idempotency-key'];
    // The stored response (for Idempotency-Key replays) holds the secret sealed, never plain.
    const result = await idempotent(
      ctx.pool,
      'notifications',
      { scope: partnerId, key, operation: 'create-webhook', request: body },
      async (client) => {
        const created = orRefuse(await createWebhook(client, ctx.sealer, partnerId, body, allowPrivate));
        return { status: 201, body: { ...created.webhook, secret: ctx.sealer.seal(created.secret) } };
      },
    );
    return reply.code(result.status).send({ ...result.body, secret: ctx.sealer.open(result.body.secret) });
  });

  register(app, 'listWebhooks', async (request) => ({
    data: await listWebhooks(ctx.pool, partnerOf(request)),
  }));

  register(app, 'getWebhook', async (request) => {
    const { webhook_id } = request.params as WebhookParams;
    const row = await readWebhook(ctx.pool, partnerOf(request), webhook_id);
    if (!row) throw new AppError('NOT_FOUND', 'No such webhook');
    return toWebhook(row);
  });

  register(app, 'updateWebhook', async (request) => {
    const { webhook_id } = request.params as WebhookParams;
    return orRefuse(
      await updateWebhook(
        ctx.pool,
        partnerOf(request),
        webhook_id,
        request.body as UpdateWebhookBody,
        allowPrivate,
      ),
    ).webhook;
  });

  register(app, 'deleteWebhook', async (request, reply) => {
    const { webhook_id } = request.params as WebhookParams;
    if (!(await deleteWebhook(ctx.pool, partnerOf(request), webhook_id))) {
      throw new AppError('NOT_FOUND', 'No such webhook');
    }
    return reply.code(204).send();
  });

  register(app, 'rotateWebhookSecret', async (request) => {
    const { webhook_id } = request.params as WebhookParams;
    return {
      secret: orRefuse(await rotateSecret(ctx.pool, ctx.sealer, partnerOf(request), webhook_id)).secret,
    };
  });

  register(app, 'testWebhook', async (request, reply) => {
    const { webhook_id } = request.params as WebhookParams;
    const ping = orRefuse(await queuePing(ctx.pool, partnerOf(request), webhook_id));
    await ctx.enqueue([{ delivery_id: ping.delivery_id, webhook_id, attempts: 0 }]);
    return reply.code(202).send({ delivery_id: ping.delivery_id, event_id: ping.event_id });
  });

  register(app, 'listWebhookDeliveries', async (request) => {
    const { webhook_id } = request.params as WebhookParams;
    const q = request.query as { page: number; page_size: number; status?: Delivery['status'] };
    const page = orRefuse(
      await listDeliveries(ctx.pool, {
        partnerId: partnerOf(request),
        webhookId: webhook_id,
        status: q.status,
        page: q.page,
        pageSize: q.page_size,
      }),
    );
    return {
      data: page.data,
      page: page.page,
      page_size: page.page_size,
      total: page.total,
      has_more: page.has_more,
    };
  });

  register(app, 'redeliverWebhookDelivery', async (request, reply) => {
    const { webhook_id, delivery_id } = request.params as WebhookParams & { delivery_id: string };
    const again = orRefuse(
      await redeliver(ctx.pool, {
        partnerId: partnerOf(request),
        webhookId: webhook_id,
        deliveryId: delivery_id,
      }),
    );
    await ctx.enqueue([{ delivery_id: again.delivery_id, webhook_id, attempts: 0 }]);
    return reply.code(202).send({ delivery_id: again.delivery_id, event_id: again.event_id });
  });
}
