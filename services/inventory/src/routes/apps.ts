// Reads for the browser apps (api.md, "Apps"): the public catalogue of function codes the scanner
// offers, and every pool for the operator console. Thin adapters over the catalogue and pool views.
import { type App, type adminPoolsQuery, requireAdmin, routeSchema } from '@cruise/shared';
import type { z } from 'zod';
import { loadCatalogue } from '../domain/catalogue.ts';
import { allPoolViews } from '../domain/pools.ts';
import type { InventoryRouteOptions } from './options.ts';
import { contractRoute } from './route-catalogue.ts';

export function registerAppRoutes(app: App, { pool }: InventoryRouteOptions) {
  const catalogue = contractRoute('getCatalogue');
  app.get(catalogue.path, { schema: routeSchema(catalogue) }, async () => {
    const products = await loadCatalogue(pool);
    return {
      products: products.map((p) => ({ product_id: p.product_id, name: p.name, functions: p.functions })),
    };
  });

  const pools = contractRoute('listAllPools');
  app.get(pools.path, { schema: routeSchema(pools) }, async (request) => {
    requireAdmin(request);
    const query = request.query as z.infer<typeof adminPoolsQuery>;
    return { data: await allPoolViews(pool, { partnerId: query.partner_id, now: new Date() }) };
  });
}
