// Retention (hourly, one job scheduler however many instances): events older than EVENT_RETENTION_DAYS
// (≥ 30), finished deliveries as old, and Idempotency-Key records past 48 h.
import { purgeReplies } from '@cruise/shared';
import type { NotificationsContext } from '../context.ts';
import { idempotencyKeys } from '../db/schema/idempotency-keys.ts';
import { purgeOldEvents } from '../domain/event-store.ts';

export async function purgeRetention(ctx: NotificationsContext): Promise<{ events: number }> {
  const events = await purgeOldEvents(ctx.pool, ctx.config.EVENT_RETENTION_DAYS);
  await purgeReplies(ctx.pool, idempotencyKeys);
  return { events };
}
