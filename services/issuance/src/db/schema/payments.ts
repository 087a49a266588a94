import { sql } from 'drizzle-orm';
import { check, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

/**
 * Payment notifications, one row per provider payment_id, with their outcome. The answer a
 * notification got is recorded under its payment_id in `idempotency_keys` (scope `payment`) and
 * returned again on repeats.
 */
export const payments = issuanceSchema.table(
  'payments',
  {
    paymentId: text('payment_id').primaryKey(),
    reservationId: uuid('reservation_id').notNull(),
    /** SUCCEEDED or FAILED, as notified. */
    notifiedStatus: text('notified_status').notNull(),
    /** CONFIRMED (tickets issued), FAILED (hold unchanged), REFUND_REQUIRED (money taken, nothing sold). */
    outcome: text('outcome').notNull(),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    paidAt: text('paid_at'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('payments_outcome_check', sql`${t.outcome} IN ('CONFIRMED', 'FAILED', 'REFUND_REQUIRED')`)],
);
