import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

/** A bulk generation request: units held in the partner's reseller pool, tickets written by the worker. */
export const batches = issuanceSchema.table(
  'batches',
  {
    /** Random, or derived from (partner, Idempotency-Key) so a retried request holds inventory once. */
    batchId: uuid('batch_id').primaryKey(),
    partnerId: uuid('partner_id').notNull(),
    productId: integer('product_id').notNull(),
    resellerId: uuid('reseller_id').notNull(),
    quantity: integer('quantity').notNull(),
    /** Tickets written so far; updated in the same transaction as each chunk. */
    generated: integer('generated').notNull().default(0),
    status: text('status').$type<'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED'>().notNull().default('QUEUED'),
    batchReference: text('batch_reference'),
    distribution: jsonb('distribution').$type<Record<string, unknown>>(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** End of the tentative period: PRE_GENERATED tickets still unactivated then expire. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** Set once the expiry sweep has expired this batch's remaining PRE_GENERATED tickets. */
    expirySweptAt: timestamp('expiry_swept_at', { withTimezone: true }),
  },
  (t) => [
    index('batches_partner_created_idx').on(t.partnerId, t.createdAt.desc(), t.batchId.desc()),
    index('batches_expiry_due_idx').on(t.expiresAt).where(sql`expiry_swept_at IS NULL`),
    index('batches_unfinished_idx').on(t.createdAt).where(sql`status IN ('QUEUED', 'RUNNING')`),
    check('batches_status_check', sql`${t.status} IN ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')`),
    check('batches_quantity_check', sql`${t.quantity} BETWEEN 1 AND 1000000`),
    check('batches_generated_check', sql`${t.generated} BETWEEN 0 AND ${t.quantity}`),
  ],
);
