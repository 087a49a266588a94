// GET /api/admin/pending-releases (operator): a thin adapter over domain/pending-releases.ts.
import { type App, listPendingReleasesRoute, requireAdmin, routeSchema } from '@cruise/shared';
import { listPendingReleases } from '../domain/pending-releases.ts';
import type { RouteContext } from './context.ts';

export async function pendingReleaseRoutes(app: App, ctx: RouteContext) {
  app.get(
    listPendingReleasesRoute.path,
    { schema: routeSchema(listPendingReleasesRoute) },
    async (request) => {
      requireAdmin(request);
      const q = request.query as { page: number; page_size: number };
      return listPendingReleases(ctx.pool, q.page, q.page_size);
    },
  );
}
