import { integer, text } from 'drizzle-orm/pg-core';
import { inventorySchema } from './inventory-schema.ts';

/** The operator's packages (106, 107, 108). */
export const products = inventorySchema.table('products', {
  /** The operator's product number, used as is in the public API. */
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  /** Units that may be allocated across all pools of the product together. */
  capacity: integer('capacity').notNull(),
  currency: text('currency').notNull(),
  /** Display order in the inventory view. */
  position: integer('position').notNull(),
});
