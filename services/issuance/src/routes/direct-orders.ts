// POST /api/direct/orders (operator): a thin adapter over domain/direct-orders.ts.
import { createHash } from 'node:crypto';
import {
  type App,
  createDirectOrderRoute,
  type DirectOrderBody,
  idempotent,
  newId,
  requireAdmin,
  routeSchema,
} from '@cruise/shared';
import { createDirectOrder } from '../domain/direct-orders.ts';
import { idempotencyKeyOf, orRefuse, type RouteContext } from './context.ts';

/** With an Idempotency-Key the order id is derived from it, so inventory sells a retried order once. */
function orderIdFromKey(key: string): string {
  const hex = createHash('sha256').update(`direct-order\n${key}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function directOrderRoutes(app: App, ctx: RouteContext) {
  app.post(
    createDirectOrderRoute.path,
    { schema: routeSchema(createDirectOrderRoute) },
    async (request, reply) => {
      requireAdmin(request);
      const body = request.body as DirectOrderBody;
      const key = idempotencyKeyOf(request);
      const orderId = key ? orderIdFromKey(key) : newId();
      const result = await idempotent(
        ctx.pool,
        'issuance',
        { scope: 'operator', key, operation: 'direct-order', request: body },
        async (client) => ({
          status: 201,
          body: orRefuse(await createDirectOrder(client, ctx.inventory, orderId, body)).order,
        }),
      );
      if (!result.replayed) {
        ctx.eventsWritten();
        ctx.metrics?.ticketsIssued.inc({ channel: 'direct' }, result.body.tickets.length);
      }
      return reply.code(result.status).send(result.body);
    },
  );
}
