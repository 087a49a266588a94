// The operator's own sales: sold from the direct pool by inventory (idempotent by order_id), tickets
// ACTIVE at once on the direct channel, with no partner.
import type { CommandClient, DirectOrder, DirectOrderBody, Outcome, PoolClient } from '@cruise/shared';
import { issueUnits } from './issue-tickets.ts';
import { rememberProduct } from './product-catalogue.ts';
import { toTicket } from './ticket-records.ts';

export async function createDirectOrder(
  client: PoolClient,
  inventory: CommandClient,
  orderId: string,
  body: DirectOrderBody,
): Promise<Outcome<{ order: DirectOrder }>> {
  const reply = await inventory.send('directSale', {
    order_id: orderId,
    product_id: body.product_id,
    visit_date: body.visit_date,
    items: body.items,
  });
  if (!reply.ok) return reply;
  await rememberProduct(client, reply.product);
  const tickets = await issueUnits(client, {
    source: { kind: 'order', orderId },
    partnerId: null,
    channel: 'direct',
    productId: body.product_id,
    resellerId: null,
    functions: reply.product.functions,
    items: reply.items,
  });
  return {
    ok: true,
    order: {
      order_id: orderId,
      product_id: body.product_id,
      visit_date: body.visit_date,
      total: reply.total,
      tickets: tickets.map(toTicket),
    },
  };
}
