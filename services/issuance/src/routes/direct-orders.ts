// POST /api/direct/orders (operator): a thin adapter over domain/direct-orders.ts.
import { createHash } from 'node:crypto';
import { type createDirectOrderRoute, type Handler, idempotent, newId } from '@cruise/shared';
import { createDirectOrder as sellDirect } from '../domain/direct-orders.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

/** With an Idempotency-Key the order id is derived from it, so inventory sells a retried order once. */
function orderIdFromKey(key: string): string {
  const hex = createHash('sha256').update(`direct-order\n${key}`).digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const createDirectOrder: Handler<typeof createDirectOrderRoute, IssuanceContext> = async ({
  body,
  headers,
  ctx,
}) => {
  const key = headers['idempotency-key'];
  const orderId = key ? orderIdFromKey(key) : newId();
  const result = await idempotent(
    ctx.pool,
    'issuance',
    { scope: 'operator', key, operation: 'direct-order', request: body },
    async (client) => ({
      status: 201,
      body: orRefuse(await sellDirect(client, ctx.inventory, orderId, body)).order,
    }),
  );
  if (!result.replayed) {
    ctx.eventsWritten();
    ctx.metrics.ticketsIssued.inc({ channel: 'direct' }, result.body.tickets.length);
  }
  return result.body;
};
