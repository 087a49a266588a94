// Reads for the browser apps (api.md, "Apps"): the public catalogue of function codes the scanner
// offers, and every pool for the operator console. Thin adapters over the catalogue and pool views.
import type { getCatalogueRoute, Handler, listAllPoolsRoute } from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { loadCatalogue } from '../domain/catalogue.ts';
import { allPoolViews } from '../domain/pools.ts';

export const getCatalogue: Handler<typeof getCatalogueRoute, InventoryContext> = async ({ ctx }) => {
  const products = await loadCatalogue(ctx.pool);
  return {
    products: products.map((p) => ({ product_id: p.product_id, name: p.name, functions: p.functions })),
  };
};

export const listAllPools: Handler<typeof listAllPoolsRoute, InventoryContext> = async ({ query, ctx }) => ({
  data: await allPoolViews(ctx.pool, { partnerId: query.partner_id, now: new Date() }),
});
