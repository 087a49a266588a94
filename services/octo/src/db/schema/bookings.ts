import { date, index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { octoSchema } from './octo-schema.ts';

/**
 * The OCTO side of a booking: the reseller's `uuid` for one of its reservations and what OCTO carries
 * that a reservation does not (contact, notes, unit item uuids). Status, expiry, prices and tickets
 * are never copied here: they are read from inventory and issuance on every answer.
 */
export const bookings = octoSchema.table(
  'bookings',
  {
    partnerId: uuid('partner_id').notNull(),
    /** The reseller's booking uuid (OCTO `uuid`); idempotency key of the create, per partner. */
    uuid: uuid('uuid').notNull(),
    /** The inventory reservation (OCTO `id` and `supplierReference`). */
    reservationId: uuid('reservation_id').notNull().unique('bookings_reservation_id_key'),
    productId: integer('product_id').notNull(),
    visitDate: date('visit_date', { mode: 'string' }).notNull(),
    resellerReference: text('reseller_reference'),
    notes: text('notes'),
    /** The OCTO contact as last given (create or confirm), echoed back whole. */
    contact: jsonb('contact').notNull(),
    /** `[{ uuid, unitId, resellerReference, contact }]` in request order. */
    unitItems: jsonb('unit_items').notNull(),
    cancellationReason: text('cancellation_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.partnerId, t.uuid], name: 'bookings_pkey' }),
    index('bookings_partner_reseller_ref_idx').on(t.partnerId, t.resellerReference),
    index('bookings_partner_visit_date_idx').on(t.partnerId, t.visitDate),
  ],
);
