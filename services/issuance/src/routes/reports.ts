// Report routes: thin adapters over domain/reports.ts.
import type { billingSummaryRoute, Handler, reconciliationRoute } from '@cruise/shared';
import { billingSummary, reconciliation } from '../domain/reports.ts';
import { type IssuanceContext, orRefuse } from './context.ts';

export const ownBilling: Handler<typeof billingSummaryRoute, IssuanceContext> = async ({
  query,
  caller,
  ctx,
}) => billingSummary(ctx.pool, caller.partnerId, query.from, query.to);

export const ownReconciliation: Handler<typeof reconciliationRoute, IssuanceContext> = async ({
  query,
  caller,
  ctx,
}) => orRefuse(await reconciliation(ctx.pool, ctx.inventory, caller.partnerId, query.from, query.to)).report;
