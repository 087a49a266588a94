import { integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { redemptionSchema } from './redemption-schema.ts';

/**
 * The redemption service's projection of issuance's tickets, fed by `events.issuance.tickets.*` and,
 * for a ticket not seen yet, by the `ticketSnapshot` command. Redemption times are not kept here: the
 * `redemptions` rows this service writes are the authority for them.
 */
export const tickets = redemptionSchema.table('tickets', {
  ticketCode: text('ticket_code').primaryKey(),
  /** The owning OTA partner; null for the operator's direct sales. */
  partnerId: uuid('partner_id'),
  channel: text('channel').notNull(),
  productId: integer('product_id').notNull(),
  productName: text('product_name').notNull(),
  /**
   * Issuance's status, except that USED is also set here, in the transaction that records the last
   * redemption; a later snapshot never turns it back to ACTIVE.
   */
  status: text('status').notNull(),
  /** The entitlement function codes the ticket carries, in redemption order. */
  functionCodes: text('function_codes').array().notNull(),
  /** Issuance's revision of the snapshot applied last; only a higher one is applied. */
  revision: integer('revision').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
