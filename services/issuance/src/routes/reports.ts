// Report routes: thin adapters over domain/reports.ts.
import { type App, billingSummaryRoute, reconciliationRoute, routeSchema } from '@cruise/shared';
import { billingSummary, reconciliation } from '../domain/reports.ts';
import { orRefuse, partnerOf, type RouteContext } from './context.ts';

type Period = { from: string; to: string };

export async function reportRoutes(app: App, ctx: RouteContext) {
  app.get(billingSummaryRoute.path, { schema: routeSchema(billingSummaryRoute) }, async (request) => {
    const { from, to } = request.query as Period;
    return billingSummary(ctx.pool, partnerOf(request), from, to);
  });
  app.get(reconciliationRoute.path, { schema: routeSchema(reconciliationRoute) }, async (request) => {
    const { from, to } = request.query as Period;
    return orRefuse(await reconciliation(ctx.pool, ctx.inventory, partnerOf(request), from, to)).report;
  });
}
