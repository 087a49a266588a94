// The operator's allocation routes: thin adapters over `setAllocation`.
import {
  type App,
  type allocationPartnerParams,
  type directAllocationBody,
  type partnerAllocationBody,
  refusalError,
  requireAdmin,
  routeSchema,
} from '@cruise/shared';
import type { z } from 'zod';
import { setAllocation } from '../domain/pools.ts';
import type { InventoryRouteOptions } from './options.ts';
import { contractRoute } from './route-catalogue.ts';

export function registerAllocationRoutes(app: App, { pool }: InventoryRouteOptions) {
  const partner = contractRoute('setPartnerAllocation');
  app.put(partner.path, { schema: routeSchema(partner) }, async (request) => {
    requireAdmin(request);
    const { partner_id } = request.params as z.infer<typeof allocationPartnerParams>;
    const body = request.body as z.infer<typeof partnerAllocationBody>;
    const outcome = await setAllocation(pool, {
      productId: body.product_id,
      channel: body.channel,
      partnerId: partner_id,
      allocated: body.allocated,
    });
    if (!outcome.ok) throw refusalError(outcome);
    return outcome.pool;
  });

  const direct = contractRoute('setDirectAllocation');
  app.put(direct.path, { schema: routeSchema(direct) }, async (request) => {
    requireAdmin(request);
    const body = request.body as z.infer<typeof directAllocationBody>;
    const outcome = await setAllocation(pool, {
      productId: body.product_id,
      channel: 'direct',
      partnerId: null,
      allocated: body.allocated,
    });
    if (!outcome.ok) throw refusalError(outcome);
    return outcome.pool;
  });
}
