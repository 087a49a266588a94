// GET /api/ota/inventory: a thin adapter over `inventoryView`.
import { type App, type inventoryQuery, routeSchema, venueDate } from '@cruise/shared';
import type { z } from 'zod';
import { inventoryView } from '../domain/inventory-view.ts';
import { callingPartner } from './caller.ts';
import type { InventoryRouteOptions } from './options.ts';
import { contractRoute } from './route-catalogue.ts';

export function registerInventoryRoutes(app: App, { pool, config }: InventoryRouteOptions) {
  const route = contractRoute('getInventory');
  app.get(route.path, { schema: routeSchema(route) }, async (request) => {
    const partnerId = callingPartner(request);
    const query = request.query as z.infer<typeof inventoryQuery>;
    const now = new Date();
    return inventoryView(pool, {
      partnerId,
      visitDate: query.visit_date ?? venueDate(now, config.VENUE_TIMEZONE),
      now,
    });
  });
}
