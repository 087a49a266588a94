// The pull feed: GET /api/ota/events (domain/feed.ts).
import { type Handler, type listEventsRoute, refusalError } from '@cruise/shared';
import type { NotificationsContext } from '../context.ts';
import { readFeed } from '../domain/feed.ts';

export const listEvents: Handler<typeof listEventsRoute, NotificationsContext> = async ({
  query,
  caller,
  ctx,
}) => {
  const page = await readFeed(ctx.pool, ctx.cursors, { partnerId: caller.partnerId, ...query });
  if (!page.ok) throw refusalError(page);
  return { data: page.data, next_cursor: page.next_cursor };
};
