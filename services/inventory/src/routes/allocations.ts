// The operator's allocation routes: thin adapters over `setAllocation`.
import {
  type Handler,
  refusalError,
  type setDirectAllocationRoute,
  type setPartnerAllocationRoute,
} from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { setAllocation } from '../domain/pools.ts';

export const setPartnerAllocation: Handler<typeof setPartnerAllocationRoute, InventoryContext> = async ({
  params,
  body,
  ctx,
}) => {
  const outcome = await setAllocation(ctx.pool, {
    productId: body.product_id,
    channel: body.channel,
    partnerId: params.partner_id,
    allocated: body.allocated,
  });
  if (!outcome.ok) throw refusalError(outcome);
  return outcome.pool;
};

export const setDirectAllocation: Handler<typeof setDirectAllocationRoute, InventoryContext> = async ({
  body,
  ctx,
}) => {
  const outcome = await setAllocation(ctx.pool, {
    productId: body.product_id,
    channel: 'direct',
    partnerId: null,
    allocated: body.allocated,
  });
  if (!outcome.ok) throw refusalError(outcome);
  return outcome.pool;
};
