// The pull feed: GET /api/ota/events (domain/feed.ts).
import { type App, routeSchema } from '@cruise/shared';
import { readFeed } from '../domain/feed.ts';
import { contractRoute, orRefuse, partnerOf, type RouteContext } from './context.ts';

export function registerEventRoutes(app: App, ctx: RouteContext): void {
  const route = contractRoute('listEvents');
  app.route({
    method: route.method,
    url: route.path,
    schema: routeSchema(route),
    handler: async (request) => {
      const q = request.query as { after?: string; types?: string; limit: number };
      const page = orRefuse(await readFeed(ctx.pool, ctx.cursors, { partnerId: partnerOf(request), ...q }));
      return { data: page.data, next_cursor: page.next_cursor };
    },
  });
}
