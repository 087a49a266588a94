import type { Channel } from '@cruise/shared';
import { sql } from 'drizzle-orm';
import { check, integer, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';
import { products } from './products.ts';

/**
 * Inventory pools, one per (product, channel[, partner]). The counters are the single authority on
 * availability (`allocated - held - sold`); every change to them is also written to `inventory_ledger`.
 */
export const pools = inventorySchema.table(
  'pools',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    /** `direct` (the operator's own sales), `ota` (a partner's reservations), `reseller` (a partner's batches). */
    channel: text('channel').$type<Channel>().notNull(),
    /** The owning partner; null exactly for the direct pool. */
    partnerId: uuid('partner_id'),
    allocated: integer('allocated').notNull().default(0),
    /** Units on hold: reservations not yet paid, pre-generated tickets not yet activated. */
    held: integer('held').notNull().default(0),
    sold: integer('sold').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('pools_product_channel_partner_key').on(t.productId, t.channel, t.partnerId).nullsNotDistinct(),
    check('pools_channel_check', sql`${t.channel} IN ('direct', 'ota', 'reseller')`),
    check('pools_owner_check', sql`(${t.channel} = 'direct') = (${t.partnerId} IS NULL)`),
    check(
      'pools_counters_check',
      sql`${t.allocated} >= 0 AND ${t.held} >= 0 AND ${t.sold} >= 0 AND ${t.held} + ${t.sold} <= ${t.allocated}`,
    ),
  ],
);
