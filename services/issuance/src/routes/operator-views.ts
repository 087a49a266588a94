// The operator console's views across partners (api.md, "Apps"): every partner's batches, and one
// partner's billing and reconciliation exactly as that partner would read them. Thin adapters.
import type {
  Handler,
  listAllBatchesRoute,
  partnerBillingSummaryRoute,
  partnerReconciliationRoute,
} from '@cruise/shared';
import { listAllBatches } from '../domain/batches.ts';
import { billingSummary, reconciliation } from '../domain/reports.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const allBatches: Handler<typeof listAllBatchesRoute, IssuanceContext> = async ({ query, ctx }) =>
  orRefuse(await listAllBatches(ctx.pool, { status: query.status, partnerId: query.partner_id }, query)).page;

export const partnerBilling: Handler<typeof partnerBillingSummaryRoute, IssuanceContext> = async ({
  params,
  query,
  ctx,
}) => billingSummary(ctx.pool, params.partner_id, query.from, query.to);

export const partnerReconciliation: Handler<typeof partnerReconciliationRoute, IssuanceContext> = async ({
  params,
  query,
  ctx,
}) => orRefuse(await reconciliation(ctx.pool, ctx.inventory, params.partner_id, query.from, query.to)).report;
