// The operator console's views across partners (api.md, "Apps"): every partner's batches, and one
// partner's billing and reconciliation exactly as that partner would read them. Thin adapters.
import {
  type App,
  type adminBatchesQuery,
  listAllBatchesRoute as batches,
  partnerBillingSummaryRoute as billing,
  partnerReconciliationRoute as reconciliationRoute,
  requireAdmin,
  routeSchema,
} from '@cruise/shared';
import type { z } from 'zod';
import { listAllBatches } from '../domain/batches.ts';
import { billingSummary, reconciliation } from '../domain/reports.ts';
import { orRefuse, type RouteContext } from './context.ts';

type PartnerPeriod = { params: { partner_id: string }; query: { from: string; to: string } };

export async function operatorViewRoutes(app: App, ctx: RouteContext) {
  app.get(batches.path, { schema: routeSchema(batches) }, async (request) => {
    requireAdmin(request);
    const q = request.query as z.infer<typeof adminBatchesQuery>;
    return listAllBatches(ctx.pool, { status: q.status, partnerId: q.partner_id }, q.page, q.page_size);
  });
  app.get(billing.path, { schema: routeSchema(billing) }, async (request) => {
    requireAdmin(request);
    const { params, query } = request as unknown as PartnerPeriod;
    return billingSummary(ctx.pool, params.partner_id, query.from, query.to);
  });
  app.get(reconciliationRoute.path, { schema: routeSchema(reconciliationRoute) }, async (request) => {
    requireAdmin(request);
    const { params, query } = request as unknown as PartnerPeriod;
    return orRefuse(await reconciliation(ctx.pool, ctx.inventory, params.partner_id, query.from, query.to))
      .report;
  });
}
