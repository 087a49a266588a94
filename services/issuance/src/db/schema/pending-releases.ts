import type { Channel } from '@cruise/shared';
import { sql } from 'drizzle-orm';
import { index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

/**
 * Units to hand back to inventory, written in the same transaction as the ticket change (cancel,
 * expiry) and sent afterwards; a row still unsent after a crash or an outage is retried by the sweep.
 * `ref` is the idempotency reference inventory's release command de-duplicates on.
 */
export const pendingReleases = issuanceSchema.table(
  'pending_releases',
  {
    ref: text('ref').primaryKey(),
    partnerId: uuid('partner_id'),
    productId: integer('product_id').notNull(),
    channel: text('channel').$type<Channel>().notNull(),
    /** `held` (pre-generated units) or `sold` (activated or paid units). */
    fromState: text('from_state').$type<'held' | 'sold'>().notNull(),
    quantity: integer('quantity').notNull(),
    reason: text('reason').$type<'cancel' | 'expire'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('pending_releases_unsent_idx').on(t.createdAt).where(sql`sent_at IS NULL`)],
);
