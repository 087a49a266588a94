import { bigint, bigserial, index, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { notificationsSchema } from './notifications-schema.ts';

/**
 * Every partner event received from the services' outboxes, kept for the feed (≥ 30 days) and as the
 * body of its deliveries.
 */
export const events = notificationsSchema.table(
  'events',
  {
    /** Fixed by the emitting service when it wrote its outbox row: the same on every redelivery. */
    eventId: uuid('event_id').primaryKey(),
    /**
     * Feed order. Assigned under one transaction-scoped advisory lock held until commit, so positions
     * become visible in increasing order and a reader polling `position > cursor` never skips one.
     */
    position: bigserial('position', { mode: 'number' }).notNull().unique('events_position_key'),
    partnerId: uuid('partner_id').notNull(),
    type: text('type').notNull(),
    revision: bigint('revision', { mode: 'number' }).notNull(),
    /** The envelope exactly as delivered and listed: `{ event_id, type, created_at, partner_id, revision, data }`. */
    payload: jsonb('payload').notNull(),
    /** When the change was committed at its source (the envelope's `created_at`); delivery lag starts here. */
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('events_partner_position_idx').on(t.partnerId, t.position),
    index('events_stored_idx').on(t.storedAt),
  ],
);
