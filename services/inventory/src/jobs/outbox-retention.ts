// Outbox retention: published outbox rows older than a day are deleted hourly (in slices, see
// purgePublishedOutbox); unpublished rows are never touched. Its own queue (`inventory-outbox-retention`).
import { purgePublishedOutbox } from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { INVENTORY_SCHEMA } from '../db/schema/inventory-schema.ts';

export const OUTBOX_RETENTION_HOURS = 24;

export async function purgeOldOutboxRows(ctx: InventoryContext): Promise<{ purged: number }> {
  const purged = await purgePublishedOutbox(ctx.pool, INVENTORY_SCHEMA, OUTBOX_RETENTION_HOURS);
  if (purged > 0) ctx.log.info({ purged }, 'purged published outbox rows');
  return { purged };
}
