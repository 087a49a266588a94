import type { ReservationSnapshot } from '@cruise/shared';
import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';
import { pools } from './pools.ts';
import { products } from './products.ts';

/** One priced line of a reservation, as stored in `reservations.items`. */
export interface StoredReservationItem {
  customer_type: string;
  quantity: number;
  /** Unit price in minor units, fixed when the reservation was made. */
  unit_amount: number;
}

/** A partner's hold on units of its `ota` pool, priced for the visit date's day type. */
export const reservations = inventorySchema.table(
  'reservations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    partnerId: uuid('partner_id').notNull(),
    poolId: uuid('pool_id')
      .notNull()
      .references(() => pools.id),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    visitDate: date('visit_date').notNull(),
    /** `weekday` or `weekend` of the visit date, which decided the unit prices. */
    dayType: text('day_type').notNull(),
    /** The partner's own sub-reseller (owned by issuance); stored as given. */
    resellerId: uuid('reseller_id'),
    /** The partner's own order reference, searchable. */
    resellerReference: text('reseller_reference'),
    /** ON_HOLD → CONFIRMED | EXPIRED | CANCELLED. */
    status: text('status').$type<ReservationSnapshot['status']>().notNull(),
    items: jsonb('items').$type<StoredReservationItem[]>().notNull(),
    quantity: integer('quantity').notNull(),
    totalAmount: integer('total_amount').notNull(),
    currency: text('currency').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    expiredAt: timestamp('expired_at', { withTimezone: true }),
    /** The payment that confirmed it: unique, so a payment confirms one reservation, once. */
    paymentId: text('payment_id').unique('reservations_payment_id_key'),
    /** True when the hold had expired and the payment re-held units that were still free. */
    reheld: boolean('reheld').notNull().default(false),
  },
  (t) => [
    check('reservations_status_check', sql`${t.status} IN ('ON_HOLD', 'CONFIRMED', 'EXPIRED', 'CANCELLED')`),
    check('reservations_quantity_check', sql`${t.quantity} BETWEEN 1 AND 100`),
    index('reservations_partner_created_idx').on(t.partnerId, t.createdAt.desc(), t.id.desc()),
    index('reservations_partner_reference_idx').on(t.partnerId, t.resellerReference),
    /** Finds a pool's stale holds inside the reserving transaction, and the sweeper's work. */
    index('reservations_on_hold_expiry_idx').on(t.poolId, t.expiresAt).where(sql`${t.status} = 'ON_HOLD'`),
    index('reservations_expiry_idx').on(t.expiresAt).where(sql`${t.status} = 'ON_HOLD'`),
  ],
);
