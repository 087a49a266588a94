import { integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { issuanceSchema } from './issuance-schema.ts';

/**
 * Issuance's copy of the product facts it needs for ticket snapshots (name, entitlement codes), taken
 * from inventory's command replies; inventory stays the authority, this only saves asking again.
 */
export const productCatalogue = issuanceSchema.table('product_catalogue', {
  productId: integer('product_id').primaryKey(),
  name: text('name').notNull(),
  /** Entitlement function codes in redemption order. */
  functions: jsonb('functions').$type<string[]>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
