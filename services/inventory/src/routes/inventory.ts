// GET /api/ota/inventory: a thin adapter over `inventoryView`.
import { type getInventoryRoute, type Handler, venueDate } from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { inventoryView } from '../domain/inventory-view.ts';

export const getInventory: Handler<typeof getInventoryRoute, InventoryContext> = async ({
  query,
  caller,
  ctx,
}) => {
  const now = new Date();
  return inventoryView(ctx.pool, {
    partnerId: caller.partnerId,
    visitDate: query.visit_date ?? venueDate(now, ctx.config.VENUE_TIMEZONE),
    now,
  });
};
