import { sql } from 'drizzle-orm';
import { index, integer, jsonb, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { notificationsSchema } from './notifications-schema.ts';
import { webhooks } from './webhooks.ts';

/**
 * One event to one webhook: the truth about what must still be delivered. BullMQ jobs only carry out
 * the attempts; a sweeper re-enqueues a PENDING delivery whose job went missing.
 */
export const deliveries = notificationsSchema.table(
  'deliveries',
  {
    deliveryId: uuid('delivery_id').primaryKey(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.webhookId, { onDelete: 'cascade' }),
    partnerId: uuid('partner_id').notNull(),
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    /** The body of a `ping` (pings are not stored as events); null means the stored event's payload. */
    payload: jsonb('payload'),
    /** Set on a redelivery: the delivery it repeats (same event, same `webhook-id`). */
    redeliveryOf: uuid('redelivery_of'),
    /** `PENDING`, `SUCCEEDED` or `FAILED`. */
    status: text('status').$type<'PENDING' | 'SUCCEEDED' | 'FAILED'>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    /** When the next attempt is due (PENDING only). */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /**
     * A first attempt claimed by a dispatcher until then (it is being sent): other claimers and the sweep
     * leave it alone, and it is due again once the lease runs out (the claimer died). In no index, so that
     * a claim is a HOT update (the table keeps free space on every page for it: fillfactor, migration 0005).
     */
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    /** When the event was committed at its source: the delivery lag metric starts here. */
    eventCreatedAt: timestamp('event_created_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    /** Fan-out is idempotent: an event redelivered by JetStream does not create a second delivery. */
    uniqueIndex('deliveries_fanout_key').on(t.webhookId, t.eventId).where(sql`redelivery_of IS NULL`),
    // A webhook's deliveries newest first, read backwards; the id makes the key unique for cursor pages.
    index('deliveries_webhook_idx').on(t.webhookId, t.createdAt, t.deliveryId),
    /**
     * What the sweep reads: attempts due. `next_attempt_at` is set exactly while a delivery is PENDING.
     * Keyed on that rather than on `status = 'PENDING'`: with that predicate, the planner took this index
     * for any statement guarded by `status = 'PENDING'` (recording a batch's attempts by id) whenever its
     * statistics said PENDING rows were few (never analysed, or a burst after a quiet period) and read
     * every PENDING row per batch.
     */
    index('deliveries_pending_idx').on(t.nextAttemptAt).where(sql`next_attempt_at IS NOT NULL`),
    /** A webhook's due first attempts, claimed a batch at a time by the dispatcher. */
    index('deliveries_first_attempts_idx')
      .on(t.webhookId, t.nextAttemptAt)
      .where(sql`status = 'PENDING' AND attempts = 0`),
  ],
);
