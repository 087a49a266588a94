import type { TicketSnapshot } from '@cruise/shared';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

export interface StoredEntitlement {
  function_code: string;
  redeemed_at: string | null;
}

/**
 * Every ticket, whatever its channel. Entitlements live in a jsonb column on the ticket rather than
 * a child table: they are always read and changed together with the ticket, a product has one to a
 * handful of them, and a million-ticket batch then writes a million rows instead of several million.
 */
export const tickets = issuanceSchema.table(
  'tickets',
  {
    /** Insertion order; the tie-breaker of "newest first" (many tickets share one created_at). */
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The opaque, unguessable code (newTicketCode(): 120 random bits). */
    ticketCode: text('ticket_code').notNull(),
    /** The owning partner; null for the operator's direct sales. */
    partnerId: uuid('partner_id'),
    channel: text('channel').$type<TicketSnapshot['channel']>().notNull(),
    productId: integer('product_id').notNull(),
    status: text('status').$type<TicketSnapshot['status']>().notNull(),
    reservationId: uuid('reservation_id'),
    /** Direct-sale order the ticket belongs to. */
    orderId: uuid('order_id'),
    /** Position of the unit within its reservation or order: (reservation_id, unit_index) is unique. */
    unitIndex: integer('unit_index'),
    batchId: uuid('batch_id'),
    /** 1-based position within the batch: (batch_id, batch_seq) is unique, so a retried chunk cannot duplicate. */
    batchSeq: integer('batch_seq'),
    /** The batch's reseller, replaced by the selling reseller on activation (reseller → customer chain). */
    resellerId: uuid('reseller_id'),
    customerType: text('customer_type'),
    priceAmount: integer('price_amount'),
    priceCurrency: text('price_currency'),
    customerName: text('customer_name'),
    customerEmail: text('customer_email'),
    orderReference: text('order_reference'),
    entitlements: jsonb('entitlements').$type<StoredEntitlement[]>().notNull(),
    /** +1 on every change; event consumers apply a snapshot only when it is newer. */
    revision: integer('revision').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    activatedAt: timestamp('activated_at', { withTimezone: true }),
    usedAt: timestamp('used_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    expiredAt: timestamp('expired_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('tickets_code_key').on(t.ticketCode),
    // The list's default order and the created_from/created_to range, per partner.
    index('tickets_partner_created_idx').on(t.partnerId, t.createdAt.desc(), t.id.desc()),
    index('tickets_partner_status_created_idx').on(t.partnerId, t.status, t.createdAt.desc(), t.id.desc()),
    // Status and product together: without it a combination with few or no matches walks every ticket
    // of that status (the bench's `status=USED&product_id=108` took ~700 ms on a million tickets).
    index('tickets_partner_status_product_created_idx').on(
      t.partnerId,
      t.status,
      t.productId,
      t.createdAt.desc(),
      t.id.desc(),
    ),
    // Product alone, with or without a creation range: without it the list walked (partner, created)
    // and read every ticket's heap row to test its product (the bench's `product_id=107&created_from=…`
    // took ~130 ms for its capped total); here the total is an index-only scan of the matches.
    index('tickets_partner_product_created_idx').on(
      t.partnerId,
      t.productId,
      t.createdAt.desc(),
      t.id.desc(),
    ),
    index('tickets_partner_reseller_created_idx')
      .on(t.partnerId, t.resellerId, t.createdAt.desc(), t.id.desc())
      .where(sql`reseller_id IS NOT NULL`),
    // A reseller's tickets of one status (e.g. its unsold PRE_GENERATED ones), for the same reason.
    index('tickets_partner_reseller_status_created_idx')
      .on(t.partnerId, t.resellerId, t.status, t.createdAt.desc(), t.id.desc())
      .where(sql`reseller_id IS NOT NULL`),
    // Idempotency of issuance, and the lookups by batch / reservation / order. Migration 0002 adds
    // INCLUDE columns to this key and to the reseller index (drizzle cannot express them).
    uniqueIndex('tickets_batch_seq_key').on(t.batchId, t.batchSeq).where(sql`batch_id IS NOT NULL`),
    uniqueIndex('tickets_reservation_unit_key')
      .on(t.reservationId, t.unitIndex)
      .where(sql`reservation_id IS NOT NULL`),
    uniqueIndex('tickets_order_unit_key').on(t.orderId, t.unitIndex).where(sql`order_id IS NOT NULL`),
    check('tickets_channel_check', sql`${t.channel} IN ('direct', 'ota', 'reseller')`),
    check(
      'tickets_status_check',
      sql`${t.status} IN ('PRE_GENERATED', 'ACTIVE', 'USED', 'CANCELLED', 'EXPIRED')`,
    ),
  ],
);
