// Retention (hourly, one job scheduler however many instances): events older than EVENT_RETENTION_DAYS
// (≥ 30), finished deliveries as old, and Idempotency-Key records past 48 h.
import { purgeIdempotencyKeys } from '@cruise/shared';
import type { NotificationsContext } from '../context.ts';
import { purgeOldEvents } from '../domain/event-store.ts';

export async function purgeRetention(ctx: NotificationsContext): Promise<{ events: number }> {
  const events = await purgeOldEvents(ctx.pool, ctx.config.EVENT_RETENTION_DAYS);
  await purgeIdempotencyKeys(ctx.pool, 'notifications', 48);
  return { events };
}
